"""The credit data lending pulls (``GET /data/<orderNo>/<kind>``): made up, but the same for the same
orderNo every time, so that a flow can be replayed."""
import hashlib

from shared.contract import CREDIT_DATA_KINDS


def made_up(order_no: str, kind: str) -> dict | None:
    """The ``operator``, ``creditcard`` or ``device`` data of any orderNo; None for another kind."""
    if kind not in CREDIT_DATA_KINDS:
        return None
    seed = hashlib.sha256(f"{order_no}:{kind}".encode()).digest()
    if kind == "operator":
        return {"orderNo": order_no, "carrier": ("中国移动", "中国联通", "中国电信")[seed[0] % 3],
                "netAgeMonths": 6 + seed[1] % 120, "monthlyBill": 3000 + seed[2] * 100, "callsLast6Months": seed[3] * 7}
    if kind == "creditcard":
        return {"orderNo": order_no, "cards": seed[0] % 6, "totalLimit": (seed[1] % 50 + 1) * 1_000_000,
                "overdueCount": seed[2] % 3}
    return {"orderNo": order_no, "deviceId": seed.hex()[:32], "os": ("android", "ios")[seed[0] % 2],
            "rooted": False}
