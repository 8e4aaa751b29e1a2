"""A borrower's identity fields: the 18-character ID number (GB 11643), the mobile, and their MD5 keys."""
import hashlib
import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"1[0-9]{10}")


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an ID number."""
    return _CHECK_CHARACTERS[sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS)) % 11]


def id_number_problem(id_number: str) -> str | None:
    """Why ``id_number`` is not a valid 18-character ID number (upper-case X only), or None."""
    if not isinstance(id_number, str) or not _ID_NUMBER.fullmatch(id_number):
        return "must be 17 digits and a check digit or upper-case X"
    if check_character(id_number[:17]) != id_number[17]:
        return "has a wrong check digit"
    try:
        birth_date(id_number)
    except ValueError:
        return "holds no real birth date"
    return None


def birth_date(id_number: str) -> date:
    """The birth date written in positions 7-14 (``YYYYMMDD``); ValueError when it is not a date."""
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def age_on(id_number: str, day: date) -> int:
    """Full years of age on ``day``."""
    born = birth_date(id_number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def valid_mobile(mobile: str) -> bool:
    """11 digits starting with 1."""
    return isinstance(mobile, str) and _MOBILE.fullmatch(mobile) is not None


def md5_hex(text: str) -> str:
    """Lower-case hex MD5 of the UTF-8 text: how the partner names a person in ``user/filter``."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()
