"""CPU of the two library choices on the request paths, beside the alternatives they replaced:
``python -m bench.micro``.

- RSA-2048 PKCS#1 v1.5 signing and verification: OpenSSL through ``cryptography`` (shared/signing.py)
  against pycryptodome.
- One JSON POST to a local gunicorn (gthread) worker: urllib3's connection pool (shared/http.py)
  against a ``requests`` session set up as the services had it. Only the caller's CPU is counted
  (``time.process_time``); the server runs in its own process.
Prints microseconds of CPU per operation; results/micro.txt keeps the last run.
"""
import base64
import subprocess
import sys
import time
from pathlib import Path

import requests
from Crypto.Hash import SHA256
from Crypto.PublicKey import RSA
from Crypto.Signature import pkcs1_15
from requests.adapters import HTTPAdapter

from shared.http import ServiceClient
from shared.signing import sign, verify
from tests.support.processes import free_port

RESULTS = Path(__file__).resolve().parent / "results"
BODY = {"requestNo": "REQ_" + "0" * 32, "userNo": "USR_" + "0" * 32, "amount": "100.00"}
MESSAGE = base64.b64encode(b'{"requestNo":"REQ_0000","amount":"100.00","fullname":"\\u5f20\\u4e09"}' * 3)
ECHO_APP = """
def app(environ, start_response):
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "11")])
    return [b'{"code":0}\\n']
"""


def cpu_us(operation, count: int) -> float:
    """Microseconds of this process's CPU per call of ``operation``, after a warm-up."""
    for _ in range(min(100, count)):
        operation()
    started = time.process_time()
    for _ in range(count):
        operation()
    return (time.process_time() - started) / count * 1e6


def signing() -> dict:
    """RSA-2048 sign and verify, both libraries, same key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    other = RSA.import_key(pem)
    signature = sign(key, MESSAGE)
    return {
        "sign_cryptography_us": cpu_us(lambda: sign(key, MESSAGE), 500),
        "sign_pycryptodome_us": cpu_us(lambda: pkcs1_15.new(other).sign(SHA256.new(MESSAGE)), 500),
        "verify_cryptography_us": cpu_us(lambda: verify(key.public_key(), MESSAGE, signature), 2000),
        "verify_pycryptodome_us": cpu_us(
            lambda: pkcs1_15.new(other.publickey()).verify(SHA256.new(MESSAGE), signature), 2000),
    }


def http_clients(folder: Path) -> dict:
    """One JSON POST answered by a local gunicorn worker, through each client."""
    (folder / "echo_app.py").write_text(ECHO_APP)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread",
                               "--threads", "4", "--bind", f"127.0.0.1:{port}", "echo_app:app"], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{url}/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        config = {"INTERNAL_TOKEN": "bench"}
        session = requests.Session()
        session.trust_env = False
        session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=16))
        client = ServiceClient(url, config)
        return {
            "post_requests_session_us": cpu_us(lambda: session.post(f"{url}/l/recharges", json=BODY, timeout=5).json(),
                                               3000),
            "post_urllib3_service_client_us": cpu_us(lambda: client.post("/l/recharges", json=BODY).json(), 3000),
        }
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        figures = {**signing(), **http_clients(Path(folder))}
    report = "\n".join(f"{name:<34} {value:>8.1f} us CPU" for name, value in figures.items())
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "micro.txt").write_text(report + "\n")


if __name__ == "__main__":
    main()
