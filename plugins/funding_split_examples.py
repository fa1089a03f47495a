"""Worked example for town IT: the funding split of clause 19 (第19条).

The city's reading: 昆山开发区 and 玉山镇 pay 50 % city, 50 % town; every other
town pays 100 % town unless its plugin says otherwise.  A town's own plugin does the
same in its own file, in one line for fixed percentages::

    from core import percentage_split

    dangjian_funding_split = percentage_split({"巴城镇": (30, 70)})   # city %, town %

or by hand for any other split::

    from decimal import Decimal
    from core import hookimpl

    @hookimpl
    def dangjian_funding_split(town, community, year, amount):
        if town != "巴城镇":
            return None                      # not ours: let the next plugin answer
        city = (amount * Decimal("0.3")).quantize(Decimal("0.01"))
        return {"city": city, "town": amount - city}

The hook is firstresult: the first non-None answer wins, and plugins loaded
later (entry points, plugin folders) are asked before the built-ins.
"""
from core import percentage_split

HALF_AND_HALF_TOWNS = ("昆山开发区", "玉山镇")

#: 昆山开发区 and 玉山镇: 50 % city, 50 % town (the city's half rounded half up to the 分).
dangjian_funding_split = percentage_split({town: (50, 50) for town in HALF_AND_HALF_TOWNS})
