"""The business day: dates of due payments, ages and re-apply limits are days in LENDING_TIMEZONE."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def today(config: dict) -> date:
    """Today in the lending time zone (China Standard Time by default)."""
    return datetime.now(ZoneInfo(config["LENDING_TIMEZONE"])).date()


def local_date(config: dict, moment: datetime) -> date:
    """The lending time zone's date of an aware ``moment``."""
    return moment.astimezone(ZoneInfo(config["LENDING_TIMEZONE"])).date()


def local_time_text(config: dict, moment: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in the lending time zone, as the partner reads times."""
    return moment.astimezone(ZoneInfo(config["LENDING_TIMEZONE"])).strftime("%Y-%m-%d %H:%M:%S")


def days_after(day: date, days: int) -> date:
    return day + timedelta(days=days)
