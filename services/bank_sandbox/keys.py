"""The sandbox's keys: the platform's public key (verify requests) and the bank's and Huifu's private keys."""
from shared.config import key_path
from shared.signing import load_key


def platform_public(config: dict):
    """The key the platform's gateway requests must verify against."""
    return load_key(key_path(config, "PLATFORM_PUBLIC_KEY_PATH", "platform_public.pem"), config["MIN_KEY_BITS"])


def bank_private(config: dict):
    """The key that signs wanxin notifications and /service/query answers."""
    return load_key(key_path(config, "BANK_PRIVATE_KEY_PATH", "bank_private.pem"), config["MIN_KEY_BITS"])


def huifu_private(config: dict):
    """The key that signs Huifu callbacks (ChkValue)."""
    return load_key(key_path(config, "HUIFU_PRIVATE_KEY_PATH", "huifu_private.pem"), config["MIN_KEY_BITS"])
