"""Signing with a key at a remote signing service (CSC API, :mod:`portal.signing.csc`).

The same three steps as a browser key (:mod:`.browser_signing`), in one request: prepare the signature on
the latest revision, have the service sign its attributes (authorised with the PIN the signatory typed),
finish and store it; when another signature was stored in between, again on the newer revision (a new
authorisation each time: with SCAL 2 it is bound to the hash).
"""
from __future__ import annotations

from datetime import datetime, timezone

from ..auth.identity import Authentication
from ..models import Agreement, SignatureSlot, User
from ..signing import csc, interrupted, pades
from .signing import (
    MAX_TRIES, AlreadySigned, Conflict, KeyProblem, SignResult, SigningError, check_accepted_issuer, checked_signer_name,
    latest_revision,
    signing_setup, stamp_for, store_signature,
)

SOURCE = "csc"


def sign_with_csc(agreement: Agreement, user: User, slot: SignatureSlot, credential_id: str, pin: str,
                  authentication: Authentication | None = None) -> SignResult:
    """Sign ``slot`` with the credential ``credential_id``. Raises :class:`KeyProblem` (``csc_pin``,
    ``csc_authorisation``, ``csc_unavailable``) or another :class:`SigningError`; the document is then unchanged."""
    setup = signing_setup()
    try:
        remote = csc.credential(setup, credential_id)
        signer_name = checked_signer_name(remote.certificate, slot)  # someone else's credential is refused
        check_accepted_issuer(remote.certificate, remote.chain)  # before the PIN goes anywhere
        for _attempt in range(MAX_TRIES):
            pdf, revision = latest_revision(agreement, slot)
            signed_at = datetime.now(timezone.utc)
            prepared = interrupted.prepare_field(pdf, slot.field_name, remote.certificate, remote.chain,
                                                 stamp_for(user, signer_name, signed_at), with_timestamp=setup.timestamper is not None)
            signature = csc.sign_hash(setup, credential_id, pin, prepared.to_be_signed)
            signed = interrupted.finish_field(prepared, remote.certificate, remote.chain, signature, setup.timestamper)
            result = store_signature(agreement, user, slot, signed, revision, signed_at, SOURCE, signer_name, authentication,
                                     timestamped=setup.timestamper is not None)
            if result is not None:
                return result
    except csc.CscError as error:
        raise KeyProblem(error.code) from error
    except pades.FieldAlreadySigned as error:
        raise AlreadySigned(slot.field_name) from error
    except pades.SigningRefused as error:  # the service's signature does not fit its certificate, and the like
        raise SigningError(str(error)) from error
    raise Conflict("too many signatures at the same moment")
