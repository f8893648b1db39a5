"""Sign the final PDF (PAdES, pyHanko) with the deployment's key, and check a signed file."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

KEY_FILE, CERT_FILE = "pdf-signing-key.pem", "pdf-signing-cert.pem"


class SigningKeyError(RuntimeError):
    """The deployment's signing key is missing or unusable."""


def key_paths(directory: str) -> tuple[str, str]:
    """Return where the key and certificate live in the instance folder."""
    return os.path.join(directory, KEY_FILE), os.path.join(directory, CERT_FILE)


def _write_private(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def generate_self_signed(directory: str, common_name: str = "Petitions document signing",
                         overwrite: bool = False) -> bool:
    """Create a self-signed signing certificate and key unless they exist; return True if created."""
    key_path, cert_path = key_paths(directory)
    if not overwrite and os.path.exists(key_path) and os.path.exists(cert_path):
        return False
    os.makedirs(directory, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Petitions")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return True


def import_pkcs12(directory: str, data: bytes, passphrase: bytes | None) -> str:
    """Store the key and certificate of a PKCS#12 file as the deployment's signing key; return the subject."""
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        raise SigningKeyError(f"This is not a PKCS#12 file, or the passphrase is wrong ({exc}).") from exc
    if key is None or cert is None:
        raise SigningKeyError("The PKCS#12 file must contain both a private key and its certificate.")
    os.makedirs(directory, exist_ok=True)
    key_path, cert_path = key_paths(directory)
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert.subject.rfc4514_string()


def load_signer(directory: str):
    """Return a pyHanko signer for the deployment's key."""
    key_path, cert_path = key_paths(directory)
    if not (os.path.exists(key_path) and os.path.exists(cert_path)):
        raise SigningKeyError("No PDF signing key yet: run `flask --app petitions pdf keygen`.")
    signer = signers.SimpleSigner.load(key_path, cert_path)
    if signer is None:
        raise SigningKeyError("The PDF signing key or certificate cannot be read.")
    return signer


def trusted_certificate(directory: str):
    """Return the deployment's certificate as pyHanko expects it."""
    return load_cert_from_pemder(key_paths(directory)[1])


def sign_pdf(data: bytes, signer, reason: str = "Final signed list of the appeal") -> bytes:
    """Sign the whole file (PAdES baseline B) and return the signed bytes."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="PetitionsSignature", reason=reason,
                                        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()


@dataclass
class Verdict:
    """What the verification says about a file."""

    genuine: bool
    reason: str
    signed_at: datetime | None = None
    document_id: str = ""


def verify_pdf(data: bytes, trusted_cert) -> Verdict:
    """Say whether the file is exactly as this deployment signed it."""
    if not data.startswith(b"%PDF-"):
        return Verdict(False, "This file is not a PDF.")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            return Verdict(False, "The file carries no digital signature.")
        sig = signatures[-1]
        context = ValidationContext(trust_roots=[trusted_cert], allow_fetching=False)
        status = validate_pdf_signature(sig, context)
        document_id = _document_id(reader)
    except (PdfError, ValueError, KeyError, TypeError, OSError, IndexError) as exc:
        return Verdict(False, f"The file is damaged or was changed, so its signature cannot be checked ({exc}).")
    except Exception as exc:  # pyHanko raises many kinds for broken CMS data; all mean "not genuine"
        return Verdict(False, f"The signature cannot be checked ({type(exc).__name__}).")
    if not status.intact:
        return Verdict(False, "The file was changed after it was signed.", document_id=document_id)
    if not status.valid:
        return Verdict(False, "The signature is not valid.", document_id=document_id)
    if not status.trusted:
        return Verdict(False, "The file was signed, but not by this service.", document_id=document_id)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return Verdict(False, "Something was added to the file after it was signed.", document_id=document_id)
    return Verdict(True, "The file is exactly as this service signed it.", status.signer_reported_dt,
                   document_id)


def _document_id(reader) -> str:
    info = reader.trailer_view.get("/Info")
    if info is None:
        return ""
    value = info.get_object().get("/PetitionsDocument")
    return str(value) if value is not None else ""
