"""Admin commands: ``flask --app portal reference-data`` and ``flask --app portal demo``."""
from __future__ import annotations

import click
from flask import current_app, Flask
from sqlalchemy import func, select

from . import clock
from .extensions import db
from .models import Agreement, ArchiveMessage, Organisation, OrganisationKind, PoliceDistrict, Role, User
from .reference_data import load_reference_data

DEMO_PASSWORD = "politirad-demo-2026"
DEMO_MUNICIPALITY = "4621"  # Voss: nynorsk, Vestland
DEMO_OTHER_MUNICIPALITY = "4601"  # Bergen: neutral, Vestland
DEMO_NEIGHBOUR_MUNICIPALITY = "4620"  # Ulvik: nynorsk, Vestland; Voss's partner in the demo draft
DEMO_POLICE_DISTRICT = "Vest politidistrikt"

DEMO_PEOPLE = [
    # (e-mail, name, title, role, organisation key)
    ("koordinator@voss.demo", "Kari Koordinator", "SLT-koordinator", Role.COORDINATOR, "voss"),
    ("ordforar@voss.demo", "Ola Ordførar", "Ordførar", Role.SIGNATORY, "voss"),
    ("admin@voss.demo", "Adam Administrator", "Systemansvarleg", Role.ADMINISTRATOR, "voss"),
    ("arkivar@voss.demo", "Anne Arkivar", "Arkivar", Role.ARCHIVIST, "voss"),
    ("stasjonssjef@vest.demo", "Siv Stasjonssjef", "Politistasjonssjef", Role.SIGNATORY, "vest"),
    ("koordinator@vest.demo", "Per Politikontakt", "Politikontakt", Role.COORDINATOR, "vest"),
    ("koordinator@bergen.demo", "Berit Bergen", "SLT-koordinator", Role.COORDINATOR, "bergen"),
    ("ordforer@bergen.demo", "Marit Mjelde", "Ordfører", Role.SIGNATORY, "bergen"),
    ("ordforar@ulvik.demo", "Ingrid Ulvik", "Ordførar", Role.SIGNATORY, "ulvik"),
]


def _organisation(kind: OrganisationKind, **where: object) -> Organisation:
    column, value = next(iter(where.items()))
    found = db.session.scalar(select(Organisation).where(getattr(Organisation, column) == value))
    if found is None:
        found = Organisation(kind=kind, **where)
        db.session.add(found)
        db.session.flush()
    return found


def create_demo() -> dict[str, User]:
    """One person in each role, in Voss kommune and Vest politidistrikt, and sample agreements. Safe to repeat."""
    from .auth.passwords import hash_password
    from .auth.throttle import forget_failures
    from .demo_agreements import create_demo_agreements, create_signed_demo_agreements

    load_reference_data()
    district = db.session.scalar(select(PoliceDistrict).where(PoliceDistrict.name_bokmal == DEMO_POLICE_DISTRICT))
    assert district is not None
    organisations = {
        "voss": _organisation(OrganisationKind.MUNICIPALITY, municipality_number=DEMO_MUNICIPALITY),
        "bergen": _organisation(OrganisationKind.MUNICIPALITY, municipality_number=DEMO_OTHER_MUNICIPALITY),
        "ulvik": _organisation(OrganisationKind.MUNICIPALITY, municipality_number=DEMO_NEIGHBOUR_MUNICIPALITY),
        "vest": _organisation(OrganisationKind.POLICE_DISTRICT, police_district_id=district.id),
    }
    password_hash = hash_password(DEMO_PASSWORD)
    people: dict[str, User] = {}
    for email, name, title, role, key in DEMO_PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, title=title, role=role, organisation=organisations[key])
            db.session.add(user)
        user.password_hash = password_hash  # the demo password works again after any change
        forget_failures(email)
        people[email] = user
    db.session.flush()
    if db.session.scalar(select(Agreement).where(Agreement.owner_organisation_id == organisations["voss"].id).limit(1)) is None:
        create_demo_agreements(people)
        db.session.commit()
        # Signed through the signing service, which commits as it goes: after the rest is stored.
        create_signed_demo_agreements(people, DEMO_PASSWORD, clock.today())
    db.session.commit()
    return people


def register_commands(app: Flask) -> None:
    from .archive.cli import archive_group

    app.cli.add_command(archive_group)

    @app.cli.command("reference-data")
    def reference_data_command() -> None:
        """Load the municipalities, counties and police districts (safe to run again)."""
        counts = load_reference_data()
        click.echo(", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items()))

    @app.cli.command("renewals")
    @click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="The day to mark for (default: today). For catching up or testing.")
    @click.option("--queue", "on_queue", is_flag=True,
                  help="Put the day's run on the job queue for a worker (once per day) instead of running it here.")
    def renewals_command(today, on_queue) -> None:  # type: ignore[no-untyped-def]
        """Mark agreements due for renewal or expired, send the reminders whose day has come, close fully
        signed agreements still waiting to be closed, and remove old bulk download files (for cron; safe to repeat)."""
        from .agreements.renewals import daily_renewals
        from .jobs import enqueue, uses_queue

        day = today.date() if today else clock.today()
        if on_queue:
            if not uses_queue(app):
                raise click.UsageError("--queue needs REDIS_URL (a job queue and a worker).")
            task = enqueue(daily_renewals, day.isoformat(), job_id=f"renewals-{day.isoformat()}")
            click.echo(f"The renewals of {day.isoformat()} are {task.state.value} on the job queue ({task.id}).")
            return
        counts = daily_renewals(day.isoformat())
        click.echo(f"{counts['marked']} agreement(s) marked for renewal on {day.isoformat()}.")
        click.echo(f"{counts['expired']} agreement(s) marked as expired, a year after their renewal date.")
        click.echo(f"{counts['reminded']} renewal reminder(s) sent.")
        if counts["closing"]:
            click.echo(f"{counts['closing']} fully signed agreement(s) put on the way to being closed again.")
        if counts["job_files_removed"]:
            click.echo(f"{counts['job_files_removed']} bulk download file(s) older than "
                       f"{app.config['JOB_FILES_MAX_AGE_HOURS']} hours removed.")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker_command(burst: bool) -> None:
        """Run a worker for the background jobs (needs REDIS_URL): closing signed agreements, e-mail, bulk
        archive downloads, the daily renewals. Run one or more, e.g. under systemd."""
        from .jobs import run_worker

        try:
            run_worker(app, burst=burst)
        except RuntimeError as error:
            raise click.UsageError(str(error)) from error

    @app.cli.command("demo")
    def demo_command() -> None:
        """Create demo people in every role and sample agreements: drafts, one due for renewal, one renewed (safe to run again)."""
        people = create_demo()
        # Delivered by their jobs when the agreements were closed (here and now without REDIS_URL; by a worker with it).
        delivered = db.session.scalar(select(func.count()).select_from(ArchiveMessage).where(ArchiveMessage.state == "delivered"))
        if delivered:
            click.echo(f"{delivered} Fiks Arkiv message(s) for the signed demo agreements delivered "
                       f"(see {current_app.config['ARCHIVE_ENDPOINT'] or current_app.config['ARCHIVE_OUTBOX']}).")
        click.echo("Demo users (password for all: %s):" % DEMO_PASSWORD)
        for email, user in people.items():
            click.echo(f"  {user.role.value:<14} {email:<28} {user.name}, {user.organisation.name}")
        click.echo("Open http://127.0.0.1:5000 and sign in.")
