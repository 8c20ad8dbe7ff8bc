"""What users read for the portal's stored words (roles, states, choices), in the interface language."""
from flask_babel import lazy_gettext as _l

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
}
STATUS_COLOURS = {
    "draft": "neutral", "finalised": "warning", "active": "success",
    "renewal_due": "warning", "superseded": "neutral", "expired": "danger",
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
LEADERSHIP_LABELS = {
    "mayor": _l("The mayor leads the council"),
    "rotating": _l("The leadership rotates between the mayor and the station chief"),
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
}


def all_labels() -> dict[str, dict]:
    return {
        "role_labels": ROLE_LABELS, "status_labels": STATUS_LABELS, "status_colours": STATUS_COLOURS,
        "member_role_labels": MEMBER_ROLE_LABELS, "leadership_labels": LEADERSHIP_LABELS,
        "secretariat_labels": SECRETARIAT_LABELS, "slt_labels": SLT_LABELS,
        "standard_labels": STANDARD_LABELS, "event_labels": EVENT_LABELS,
    }
