"""The platform's side of the wanxin depository protocol: sign requests, open the bank's messages
(docs/protocols.md)."""
from shared.config import key_path
from shared.contract import PERSONAL_REGISTER, RECHARGE, TRANSACTION_ANSWER_FIELDS, TRANSACTION_SERVICES, WITHDRAW
from shared.errors import BadRequest
from shared.signing import decode_wanxin, encode_wanxin, load_key

# request_type of a depository_record -> the bank's serviceName (a transaction service's is its serviceName)
SERVICE_NAMES = {"CONSUMER_CREATE": PERSONAL_REGISTER, "RECHARGE": RECHARGE, "WITHDRAW": WITHDRAW,
                 **{name: name for name in TRANSACTION_SERVICES}}
SUPPORTED_HASHES = ("SHA256", "SHA1")


def hash_setting(value: str) -> str:
    """Normalise ``SIGN_HASH`` (``SHA256``, ``SHA-1``, ``SHA1withRSA`` ...) to SHA256 or SHA1."""
    name = value.upper().replace("-", "").replace("WITHRSA", "")
    if name not in SUPPORTED_HASHES:
        raise ValueError(f"SIGN_HASH must be SHA256 or SHA1, not {value!r}")
    return name


class WanxinCodec:
    """Signs with the platform's private key; verifies with the bank's public key and platformNo."""

    def __init__(self, config: dict):
        self.platform_no = config["PLATFORM_NO"]
        self.hash_name = hash_setting(config["SIGN_HASH"])
        self.min_bits = config["MIN_KEY_BITS"]
        self.production = config["PRODUCTION"]
        self.gateway_url = config["DEPOSITORY_GATEWAY_URL"]
        self.private_key_path = key_path(config, "PLATFORM_PRIVATE_KEY_PATH", "platform_private.pem")
        self.bank_key_path = key_path(config, "BANK_PUBLIC_KEY_PATH", "bank_public.pem")

    def signed_request(self, service_name: str, payload: dict) -> dict:
        """``{serviceName, platformNo, reqData, signature}``: ``payload`` signed with the platform's key."""
        private_key = load_key(self.private_key_path, self.min_bits)
        req_data, signature = encode_wanxin(payload, private_key, self.hash_name)
        return {"serviceName": service_name, "platformNo": self.platform_no, "reqData": req_data,
                "signature": signature}

    def gateway_request(self, service_name: str, payload: dict) -> dict:
        """The GatewayRequest the browser carries to the bank."""
        return {**self.signed_request(service_name, payload), "depositoryUrl": self.gateway_url}

    def open(self, message: dict) -> dict:
        """Verify a bank message ``{serviceName, platformNo, reqData, signature}``; return its JSON object.

        Raises :class:`BadRequest` for another platform's message, a bad signature or a malformed body.
        """
        if message["platformNo"] != self.platform_no:
            raise BadRequest(f"platformNo {message['platformNo'][:64]!r} is not this platform's")
        bank_key = load_key(self.bank_key_path, self.min_bits)
        return decode_wanxin(message["reqData"], message["signature"], bank_key, self.hash_name, self.min_bits)

    def open_answer(self, answer) -> dict:
        """Verify the bank's direct answer ``{respData, signature}`` (a transaction service's, or the query's
        signed "unknown"); return its JSON object. Raises :class:`BadRequest` for anything else: other
        fields, a bad signature, respData that is not exactly the standard Base64 of one JSON object."""
        if not isinstance(answer, dict) or not set(TRANSACTION_ANSWER_FIELDS) <= set(answer) \
                or not all(isinstance(answer[name], str) for name in TRANSACTION_ANSWER_FIELDS):
            raise BadRequest("the bank's answer is not {respData, signature}")
        bank_key = load_key(self.bank_key_path, self.min_bits)
        return decode_wanxin(answer["respData"], answer["signature"], bank_key, self.hash_name, self.min_bits)

    def check_keys(self) -> None:
        """Raise unless both keys load and are long enough (readiness)."""
        load_key(self.private_key_path, self.min_bits)
        load_key(self.bank_key_path, self.min_bits)

    def check_keys_in_production(self) -> None:
        """In production, refuse to start (raise) unless both keys load with at least MIN_KEY_BITS
        (which production raises to 2048): better no process than one that accepts weak keys."""
        if self.production:
            self.check_keys()
