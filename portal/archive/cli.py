"""``flask --app portal archive``: ``export`` (archive packages for scripted transfers), ``deliver`` (the Fiks
Arkiv messages waiting) and ``renew-timestamps`` (the archival time-stamps due for renewal); the last two for cron."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..agreements.lifecycle import record_event
from ..extensions import db
from ..models import Agreement
from .fiks_arkiv import deliver_due
from .noark5 import extraction_files
from .package import archived, file_stem, package_files, package_name, package_zip
from .timestamp_renewal import renew_due

archive_group = AppGroup("archive", help="The archive of signed agreements.")


@archive_group.command("export")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write to (created if missing). Packages already there are replaced.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only agreements that came into force (their start date, or the last signature if later) on or after this day, YYYY-MM-DD. "
                   "Default: every signed agreement.")
@click.option("--unpacked", is_flag=True, help="Write a folder per agreement instead of a ZIP file.")
@click.option("--format", "package_format", type=click.Choice(["package", "noark5"]), default="package", show_default=True,
              help="package: the portal's archive package per agreement. noark5: one Noark 5 v5.0 extraction "
                   "(arkivuttrekk.xml, arkivstruktur.xml, endringslogg.xml, the schemas and DOKUMENT/) in --out.")
def export_command(out: Path, since: datetime | None, unpacked: bool, package_format: str) -> None:
    """Write the archive package of every signed agreement (active, renewal due, superseded, expired):
    PR-2026-00001-v1-arkiv.zip, or with --unpacked a folder PR-2026-00001-v1/, each with the signed PDF,
    the evaluation PDF where there is one, validation-report.json, audit-trail.json, metadata.json and
    metadata.xml (with the SHA-256 of every other file). Each export is recorded in the agreement's history."""
    query = archived(select(Agreement))
    if since is not None:
        query = query.where(Agreement.active_from >= since.date())
    out.mkdir(parents=True, exist_ok=True)
    if package_format == "noark5":
        _export_noark5(out, db.session.scalars(query).all())
        return
    count = 0
    for agreement in db.session.scalars(query).all():
        if unpacked:
            written = out / file_stem(agreement)
            written.mkdir(exist_ok=True)
            for name, data in package_files(agreement).items():
                (written / name).write_bytes(data)
        else:
            written = out / package_name(agreement)
            written.write_bytes(package_zip(agreement))
        record_event(agreement, "package_downloaded", None, f"flask archive export to {written}")
        db.session.commit()
        click.echo(str(written))
        count += 1
    click.echo(f"{count} archive package(s) written to {out}.")



def _export_noark5(out: Path, agreements: list[Agreement]) -> None:
    """Write the Noark 5 extraction of ``agreements`` (with every version of their references) into ``out``."""
    files = extraction_files(agreements)
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for agreement in agreements:
        record_event(agreement, "package_downloaded", None, f"flask archive export --format noark5 to {out}")
    db.session.commit()
    references = len({agreement.reference for agreement in agreements})
    click.echo(f"Noark 5 extraction of {references} agreement reference(s) ({len(files)} files) written to {out}.")


@archive_group.command("deliver")
def deliver_command() -> None:
    """Deliver the Fiks Arkiv messages that are waiting (or failed and due a retry) through the outbound
    channel (ARCHIVE_ENDPOINT, or the folder ARCHIVE_OUTBOX). For cron; safe to run again."""
    messages = deliver_due()
    delivered = sum(message.state == "delivered" for message in messages)
    for message in messages:
        if message.state != "delivered":
            click.echo(f"{message.message_id}: {message.error}", err=True)
    click.echo(f"{delivered} of {len(messages)} archive message(s) delivered.")


@archive_group.command("renew-timestamps")
def renew_timestamps_command() -> None:
    """Renew the archival time-stamp of every signed agreement whose last document time-stamp's TSA
    certificate expires within TIMESTAMP_RENEWAL_MARGIN_DAYS (default 730) or uses a digest algorithm not
    in ACCEPTED_TIMESTAMP_DIGESTS: fresh validation data and a new document time-stamp, kept only if the
    renewed file validates (the old file is kept as a previous rendition). For cron; safe to run again and
    on several servers at once. Exits with 1 when a renewal failed (the agreement's file is then unchanged)."""
    outcomes = renew_due()
    for outcome in outcomes:
        click.echo(f"{outcome.label}: {outcome.message}", err=outcome.result == "failed")
    renewed = sum(outcome.result == "renewed" for outcome in outcomes)
    failed = sum(outcome.result == "failed" for outcome in outcomes)
    click.echo(f"{renewed} archival time-stamp(s) renewed; {failed} failed.")
    if failed:
        raise SystemExit(1)
