"""What users read for the portal's stored words (roles, states, choices), in the interface language."""
from collections.abc import Iterator, Mapping

from markupsafe import Markup

from .language import lazy_gettext as _l

ROLE_LABELS = {
    "coordinator": _l("Coordinator"),
    "signatory": _l("Signatory"),
    "archivist": _l("Archivist"),
    "administrator": _l("Administrator"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "finalised": _l("Awaiting signatures"),
    "active": _l("Active"),
    "renewal_due": _l("Renewal due"),
    "superseded": _l("Superseded"),
    "expired": _l("Expired"),
    "declined": _l("Declined by a signatory"),
}
STATUS_COLOURS = {
    "draft": "neutral", "finalised": "warning", "active": "success",
    "renewal_due": "warning", "superseded": "neutral", "expired": "danger",
    "declined": "danger",
}
MEMBER_ROLE_LABELS = {
    "mayor": _l("Mayor"),
    "chief_executive": _l("Chief executive"),
    "station_chief": _l("Station chief"),
    "police_contact": _l("Police contact"),
    "slt_coordinator": _l("SLT coordinator or secretary"),
    "business_contact": _l("Business"),
    "voluntary_contact": _l("Voluntary organisation"),
    "interest_contact": _l("Interest organisation"),
}
SECRETARIAT_LABELS = {
    "slt_coordinator": _l("The SLT coordinator"),
    "police_contact": _l("The police contact"),
    "other": _l("Someone else"),
}
SLT_LABELS = {
    "steering_group": _l("The council is the steering group for SLT"),
    "coordinated": _l("SLT has its own steering group; the council and SLT coordinate their work"),
    "no_slt": _l("There is no SLT cooperation in the municipality"),
}
STANDARD_LABELS = {"nynorsk": _l("Nynorsk"), "bokmal": _l("Bokmål")}
EVENT_LABELS = {
    "created": _l("Started"),
    "step_saved": _l("Answers saved"),
    "finalised": _l("Finalised"),
    "sealed": _l("Sealed by the portal"),
    "opened": _l("Opened for signing"),
    "signed": _l("Signed"),
    "active": _l("Fully signed and in force"),
    "declined": _l("Declined"),
    "new_version": _l("New version started"),
    "downloaded": _l("Final PDF downloaded"),
    "validation_report_downloaded": _l("Validation report read or downloaded"),
    "package_downloaded": _l("Archive package downloaded"),
    "renewal_due": _l("Renewal due"),
    "renewal_reminder": _l("Renewal reminder sent"),
    "renewal_started": _l("Renewal started"),
    "demo": _l("Demo data"),
    "evaluation_downloaded": _l("Evaluation PDF downloaded"),
    "superseded": _l("Superseded by its renewal"),
    "expired": _l("Expired: not renewed within a year of the renewal date"),
    "timestamp_renewed": _l("Archival time-stamp renewed"),
}
#: Why an archival time-stamp was renewed (``DocumentRendition.reason``).
RENEWAL_REASON_LABELS = {
    "tsa_expiring": _l("The certificate of the time-stamping authority was about to expire"),
    "digest_not_accepted": _l("The time-stamp used a digest algorithm no longer accepted"),
}


def leadership_label(agreement) -> str:  # type: ignore[no-untyped-def]
    """What the agreement says about who leads the council, for the pages."""
    from .wizard.answers import leader_choices

    return dict(leader_choices(agreement)).get(agreement.leadership or "", "")


class TranslatedOnce(Mapping[str, Markup]):
    """Labels for one rendering of a page: each translated the first time the page asks for it, then kept.

    A lazy label looks its translations up again each time it is written (some 10 µs): a list of 60
    agreements writes a state per row. Written as the lazy label writes itself (``__html__`` gives the text
    as it is), so the page is the same."""

    def __init__(self, labels: Mapping[str, object]) -> None:
        self._labels = labels
        self._translated: dict[str, Markup] = {}

    def __getitem__(self, key: str) -> Markup:
        try:
            return self._translated[key]
        except KeyError:
            text = self._translated[key] = Markup(str(self._labels[key]))
            return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def all_labels() -> dict[str, object]:
    """The labels for the templates, translated on first use during one rendering."""
    translated = {name: TranslatedOnce(labels) for name, labels in (
        ("role_labels", ROLE_LABELS), ("status_labels", STATUS_LABELS), ("member_role_labels", MEMBER_ROLE_LABELS),
        ("secretariat_labels", SECRETARIAT_LABELS), ("slt_labels", SLT_LABELS), ("standard_labels", STANDARD_LABELS),
        ("event_labels", EVENT_LABELS), ("renewal_reason_labels", RENEWAL_REASON_LABELS),
    )}
    return {**translated, "status_colours": STATUS_COLOURS, "leadership_label": leadership_label}
