"""Generate the local stack's development keys into a git-ignored folder, once.

Usage: ``python -m shared.devkeys deploy/keys``. Existing files are kept, so the keys stay
stable across runs; production reads key paths from the environment instead.
"""
import os
import secrets
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_PAIRS = ("platform", "bank", "huifu")
# internal_token: the service token every local service accepts; token_secret: signs user tokens;
# rongshu_secret: the lending partner's shared secret (the envelope's MD5 key).
SECRETS = ("internal_token", "token_secret", "rongshu_secret")


def generate(folder: str, bits: int = 2048) -> list[str]:
    """Create missing key pairs and secrets in ``folder``; return the paths made."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    made = []
    for name in KEY_PAIRS:
        private_path = os.path.join(folder, f"{name}_private.pem")
        public_path = os.path.join(folder, f"{name}_public.pem")
        if os.path.exists(private_path) and os.path.exists(public_path):
            continue
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        _write(private_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        _write(public_path, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
        made += [private_path, public_path]
    for secret_name in SECRETS:
        secret_path = os.path.join(folder, secret_name)
        if not os.path.exists(secret_path):
            _write(secret_path, secrets.token_urlsafe(32).encode())
            made.append(secret_path)
    return made


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


if __name__ == "__main__":
    for made_path in generate(sys.argv[1] if len(sys.argv) > 1 else "deploy/keys"):
        print(f"generated {made_path}")
