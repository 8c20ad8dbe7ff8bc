"""The identity number must appear nowhere: not in the database, a PDF, an e-mail or a log line."""
from __future__ import annotations

import email
import email.policy
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import select

from portal.extensions import db
from portal.models import AgreementDocument


def _as_text(value: object) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return data.decode("latin-1") + data.hex()
    return str(value)


def _uncompressed(pdf: bytes) -> bytes:
    """The PDF with every stream uncompressed and no object streams (qpdf), so text in it can be found."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.pdf", Path(folder) / "out.pdf"
        source.write_bytes(pdf)
        run = subprocess.run(["qpdf", "--stream-data=uncompress", "--object-streams=disable", str(source), str(target)],
                             capture_output=True)
        assert run.returncode in (0, 3), run.stderr  # 3: warnings only
        return target.read_bytes()


def assert_identity_number_nowhere(number: str, outbox: Path, log_text: str) -> None:
    looked_at = {"rows": 0, "pdfs": 0, "mails": 0}
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            looked_at["rows"] += 1
            for column, value in zip(table.columns, row):
                assert number not in _as_text(value), f"the identity number is in {table.name}.{column.name}"
    for document in db.session.scalars(select(AgreementDocument)):
        for pdf in (document.pdf, document.signed_pdf):
            if pdf:
                looked_at["pdfs"] += 1
                plain = _uncompressed(pdf)
                assert number.encode() not in plain and number.encode().hex().encode() not in plain.lower(), "the identity number is in a PDF"
    for path in outbox.glob("*.eml"):
        looked_at["mails"] += 1
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in message.walk():
            if not part.is_multipart():
                assert number not in _as_text(part.get_content()), f"the identity number is in the e-mail {path.name}"
        assert number not in str(message["Subject"])
    assert number not in log_text, "the identity number is in the log"
    assert looked_at["rows"] and looked_at["pdfs"], looked_at
