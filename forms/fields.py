"""Fields and validators shared by the step forms, with messages a user understands."""
from __future__ import annotations

from wtforms import EmailField, FieldList, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, StopValidation

from portal.language import lazy_gettext as _l


class WholeNumberField(IntegerField):
    """An integer field whose message for text like «fire» says what to type instead."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number, like 4")) from None

    def pre_validate(self, form) -> None:  # type: ignore[no-untyped-def]
        # Text that is no number has its one message already; a range check of nothing would add a second.
        if self.process_errors:
            raise StopValidation()


class Required(InputRequired):
    """Like InputRequired, but a value of only spaces counts as empty too."""

    def __call__(self, form, field):  # type: ignore[no-untyped-def]
        if field.raw_data and any(str(value).strip() for value in field.raw_data):
            return
        field.errors[:] = []
        raise StopValidation(self.message)


def options(pairs: list[tuple[str, str]], optgroup: str | None = None) -> list[SelectChoice]:
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]


def radio_field(label: str, pairs: list[tuple[str, str]], required_message: str, **kwargs) -> RadioField:  # type: ignore[no-untyped-def]
    """Radio buttons that must be answered; a value not on the list (a crafted request) gets the same message."""
    return RadioField(
        label, choices=options(pairs), validators=[Required(required_message)],
        invalid_choice_message=required_message, **kwargs,
    )


def name_field(label: str, required_message: str) -> StringField:
    return StringField(label, validators=[Required(required_message), Length(max=200, message=_l("Use at most 200 characters"))])


def email_field(label: str, required_message: str | None = None) -> EmailField:
    presence = Required(required_message) if required_message else Optional()
    return EmailField(
        label,
        validators=[
            presence,
            Email(_l("Enter an e-mail address in the right format, like navn@kommune.no")),
            Length(max=254, message=_l("Enter an e-mail address in the right format, like navn@kommune.no")),
        ],
    )


def add_or_remove(field_list: FieldList, action: str) -> bool:
    """Apply an «add» or «remove-N» button to a repeating group; True if the action was one of those.

    The form is then shown again with the same input and nothing is saved: this is how repeating
    groups work without JavaScript.
    """
    name = field_list.name
    if action == f"add-{name}":
        if field_list.max_entries is None or len(field_list.entries) < field_list.max_entries:
            field_list.append_entry()
        return True
    prefix = f"remove-{name}-"
    if action.startswith(prefix):
        index_text = action[len(prefix):]
        if index_text.isdigit() and int(index_text) < len(field_list.entries):
            field_list.entries.pop(int(index_text))
            # Renumber what follows, so the names on the page stay in order (name-0, name-1, ...).
            for position, entry in enumerate(field_list.entries):
                _rename(entry, f"{name}-{position}")
            field_list.last_index = len(field_list.entries) - 1
        return True
    return False


def _rename(field, new_name: str) -> None:  # type: ignore[no-untyped-def]
    old_name = field.name
    field.name = new_name
    field.id = new_name
    for subfield in getattr(field, "form", None) or []:
        subfield.name = new_name + subfield.name[len(old_name):]
        subfield.id = subfield.name
