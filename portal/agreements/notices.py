"""The e-mails about an agreement. Each is written in the agreement's written standard, from beginning to
end; each names the organisation it is sent for, the agreement, the deadline where there is one, and a
person to contact."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from .. import clock
from ..documents import agreement_title, document_standard, norwegian_date
from ..models import Agreement, User
from ..templating import name_list


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def _contact(person: User | None, agreement: Agreement) -> str:
    if person is None:
        return ""
    standard = document_standard(agreement)
    title = f", {person.title}" if person.title else ""
    return _("If you have questions, contact %(name)s%(title)s, %(organisation)s: %(email)s",
             name=person.name, title=title, organisation=person.organisation.name_in(standard), email=person.email)


def _closing(agreement: Agreement, contact: User | None) -> str:
    """The lines every agreement e-mail ends with: the contact person, the agreement, and who sends it."""
    standard = document_standard(agreement)
    lines = [
        _contact(contact, agreement),
        "",
        "-- ",
        _("Agreement %(reference)s, version %(version)d: %(title)s", reference=agreement.reference,
          version=agreement.version, title=agreement_title(agreement)),
        _("Sent by Politirådsportalen for %(organisation)s.", organisation=agreement.owner_organisation.name_in(standard)),
    ]
    return "\n".join(lines) + "\n"


def signing_invitation(agreement: Agreement, name: str, sign_link: str, account_link: str | None, account_days: int,
                       contact: User | None, today: date | None = None, *, provider_name: str | None = None) -> Notice:
    """To a signatory: the agreement is ready to sign (and, for a new user, how to get an account first)."""
    today = today or clock.today()
    standard = document_standard(agreement)
    with force_locale(standard.language_code):
        parts = [
            _("Hello %(name)s,", name=name),
            "",
            _("%(organisation)s asks you to sign the politiråd agreement %(reference)s, version %(version)d: %(title)s.",
              organisation=agreement.owner_organisation.name_in(standard), reference=agreement.reference,
              version=agreement.version, title=agreement_title(agreement)),
        ]
        if agreement.start_date is not None and agreement.start_date > today:
            parts.append(_("Please sign by %(date)s, the day the agreement is to apply from.",
                           date=norwegian_date(agreement.start_date, standard)))
        if account_link and provider_name:
            parts += ["", _("You do not have an account in Politirådsportalen yet. Open this link within %(days)d days and prove "
                            "who you are with %(provider)s; it takes you on to the agreement:\n\n%(link)s\n",
                            days=account_days, provider=provider_name, link=account_link)]
        elif account_link:
            parts += ["", _("You have no account in Politirådsportalen yet. First choose your password with this link, "
                            "which works for %(days)d days:", days=account_days), "", account_link]
        parts += ["", _("Read and sign the agreement here:"), "", sign_link, "", _closing(agreement, contact)]
        subject = _("Please sign: politiråd agreement %(reference)s (%(organisation)s)", reference=agreement.reference,
                    organisation=agreement.owner_organisation.name_in(standard))
    return Notice(subject, "\n".join(parts))


def declined_notice(old: Agreement, new: Agreement, declined_by: User, reason: str, link: str) -> Notice:
    """To the coordinators: a signatory declined; the new version waits for them."""
    standard = document_standard(old)
    with force_locale(standard.language_code):
        parts = [
            _("Hello,"),
            "",
            _("%(name)s (%(organisation)s) has declined to sign the politiråd agreement %(reference)s, version %(version)d.",
              name=declined_by.name, organisation=declined_by.organisation.name_in(standard), reference=old.reference,
              version=old.version),
            "",
            _("The reason given:"),
            reason,
            "",
            _("Version %(version)d is ready for you to change and finalise again:", version=new.version),
            "",
            link,
            "",
            _closing(new, declined_by),
        ]
        subject = _("Declined: politiråd agreement %(reference)s (%(organisation)s)", reference=old.reference,
                    organisation=old.owner_organisation.name_in(standard))
    return Notice(subject, "\n".join(parts))


def declined_to_signatory(old: Agreement, new: Agreement, name: str, decliner: str, reason: str, link: str) -> Notice:
    """To the other signatories of a declined version: why, and that their link leads to the new version."""
    standard = document_standard(old)
    with force_locale(standard.language_code):
        body = _(
            "Hello %(name)s,\n\n%(decliner)s has declined to sign version %(version)d of the politiråd agreement "
            "%(reference)s.\n\nThe reason given:\n%(reason)s\n\nThe coordinators are making version %(new_version)d. "
            "When it has been finalised, you are sent an e-mail, and your signing link leads to the new version:\n\n%(link)s\n\n"
            "Until then there is nothing for you to sign.\n",
            name=name, decliner=decliner, version=old.version, reference=old.reference,
            reason=reason, new_version=new.version, link=link,
        )
        subject = _("Agreement %(reference)s: version %(version)d was declined", reference=old.reference, version=old.version)
        return Notice(subject, body + "\n" + _closing(old, old.created_by))


def renewal_reminder(agreement: Agreement, days_before: int, link: str) -> Notice:
    """To the coordinators and the signatories: the yearly renewal is due on the renewal date."""
    standard = document_standard(agreement)
    assert agreement.renewal_due_on is not None
    due = agreement.renewal_due_on.strftime("%d.%m.%Y")
    with force_locale(standard.language_code):
        municipalities = name_list(m.name for m in agreement.municipalities)
        if days_before:
            subject = _("The politiråd agreement for %(municipalities)s is due for renewal on %(date)s", municipalities=municipalities, date=due)
        else:
            subject = _("The politiråd agreement for %(municipalities)s is due for renewal today", municipalities=municipalities)
        parts = [
            _("Hello,"),
            "",
            _("The politiråd agreement %(reference)s, %(title)s, is revised every year. Renew it by %(date)s.",
              reference=agreement.reference, title=agreement_title(agreement), date=due),
            "",
            _("A coordinator starts the renewal in Politirådsportalen, beginning with the evaluation of last year's priority areas:"),
            "",
            link,
            "",
            _closing(agreement, agreement.created_by),
        ]
    return Notice(subject, "\n".join(parts))
