"""From target weights to a trade list: shares, round lots, minimum size, cash, costs, reasons.

1. Target shares = target weight x portfolio value / price, rounded to the nearest lot.
2. A trade smaller than ``min_trade_usd`` is skipped (the position stays), except an exit:
   selling a whole position always goes through.
3. Estimated cost per trade from :mod:`optimizer.costs`.
4. **Cash reconciliation**: cash after = cash before + sells - buys - costs. When that would be
   negative (rounding up, costs), every buy is scaled down by the same factor and rounded
   *down* to whole lots, so the list never spends cash it does not have.
5. Each trade says why: entering, exiting, increasing or decreasing, and the constraint that
   bound it (name cap, daily-volume cap, ...) when one did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TRADE_COLUMNS = (
    "ticker",
    "name",
    "side",
    "shares",
    "price",
    "notional",
    "est_cost",
    "weight_before",
    "weight_after",
    "shares_before",
    "shares_after",
    "reason",
)


@dataclass(frozen=True)
class TradeList:
    """The trades and their totals.

    Attributes
    ----------
    trades : pandas.DataFrame
        One row per trade (``TRADE_COLUMNS``): ``side`` is BUY or SELL, ``shares`` is positive,
        ``notional`` = shares x price (USD), ``est_cost`` in USD.
    cash_before, cash_after : float
    portfolio_value : float
        Value of the tradeable holdings and cash before trading.
    notes : tuple of str
    """

    trades: pd.DataFrame
    cash_before: float
    cash_after: float
    portfolio_value: float
    notes: tuple[str, ...] = field(default=())

    @property
    def buys(self) -> float:
        return float(self.trades.loc[self.trades["side"] == "BUY", "notional"].sum())

    @property
    def sells(self) -> float:
        return float(self.trades.loc[self.trades["side"] == "SELL", "notional"].sum())

    @property
    def costs(self) -> float:
        return float(self.trades["est_cost"].sum())

    @property
    def turnover(self) -> float:
        """Buys plus sells over portfolio value."""
        return (self.buys + self.sells) / self.portfolio_value if self.portfolio_value > 0 else 0.0


def round_to_lots(shares: np.ndarray, lot: int, down: bool = False) -> np.ndarray:
    """Shares rounded to whole lots (nearest, or down towards zero)."""
    lots = shares / lot
    rounded = np.trunc(lots) if down else np.round(lots)
    result: np.ndarray = rounded * lot
    return result


def build_trades(
    table: pd.DataFrame,
    portfolio_value: float,
    cash_before: float,
    lot_size: int,
    min_trade_usd: float,
    cost: Callable[[np.ndarray, pd.Index], np.ndarray],
) -> TradeList:
    """Turn target weights into trades.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by ticker: ``name``, ``price``, ``shares_before``, ``weight_before``,
        ``weight_after`` and ``binding`` (text naming a binding constraint, or '').
    portfolio_value : float
        Value the weights refer to (USD).
    cash_before : float
    lot_size : int
    min_trade_usd : float
    cost : callable
        ``cost(notional, tickers)`` -> estimated cost in USD per trade.

    Returns
    -------
    TradeList
    """
    price = table["price"].to_numpy(float)
    before = table["shares_before"].to_numpy(float)
    target = round_to_lots(table["weight_after"].to_numpy(float) * portfolio_value / price, lot_size)
    target = np.where(table["weight_after"].to_numpy(float) <= 1e-9, 0.0, np.maximum(target, 0.0))
    delta = target - before
    exit_ = (target == 0) & (before > 0)
    small = (np.abs(delta) * price < min_trade_usd) & ~exit_
    delta = np.where(small, 0.0, delta)
    notes: list[str] = []
    if small.any() and (np.abs(target - before)[small] > 0).any():
        notes.append(f"{int(((target - before) != 0)[small].sum())} trades under ${min_trade_usd:,.0f} skipped.")

    def cash_after_trades(d: np.ndarray) -> float:
        notional = d * price
        costs = cost(np.abs(notional), table.index)
        return float(cash_before - notional.sum() - costs.sum())

    remaining = cash_after_trades(delta)
    buys = delta > 0
    if remaining < -1e-6 and buys.any():
        sells_cash = cash_before - (delta[~buys] * price[~buys]).sum() - cost(np.abs(delta[~buys] * price[~buys]), table.index[~buys]).sum()
        buy_spend = (delta[buys] * price[buys]).sum() + cost(np.abs(delta[buys] * price[buys]), table.index[buys]).sum()
        factor = max(0.0, min(1.0, sells_cash / buy_spend)) if buy_spend > 0 else 0.0
        scaled = delta.copy()
        scaled[buys] = round_to_lots(delta[buys] * factor, lot_size, down=True)
        while cash_after_trades(scaled) < -1e-6 and (scaled > 0).any():
            biggest = np.argmax(np.where(scaled > 0, scaled * price, -np.inf))
            scaled[biggest] = max(0.0, scaled[biggest] - lot_size)
        notes.append(f"Buys scaled by {factor:.4f} and rounded down so that cash stays at or above zero.")
        delta = scaled
        remaining = cash_after_trades(delta)

    notional_all = np.abs(delta) * price
    value_after = portfolio_value - cost(notional_all, table.index).sum()
    t = np.flatnonzero(delta != 0)  # only the traded rows from here on
    delta, price, before = delta[t], price[t], before[t]
    tickers = table.index[t]
    notional = notional_all[t]
    est_cost = cost(notional, tickers)
    after = before + delta
    side = np.where(delta > 0, "BUY", "SELL")
    reason = np.where(
        (before == 0) & (after > 0),
        "enter",
        np.where(after == 0, "exit", np.where(delta > 0, "increase", "decrease")),
    ).astype(object)
    binding = table["binding"].to_numpy(object)[t]
    reason = np.where(binding != "", reason + "; " + binding, reason)
    trades = pd.DataFrame(
        {
            "ticker": tickers,
            "name": table["name"].to_numpy(object)[t],
            "side": side,
            "shares": np.abs(delta),
            "price": price,
            "notional": notional,
            "est_cost": est_cost,
            "weight_before": table["weight_before"].to_numpy(float)[t],
            "weight_after": after * price / value_after if value_after > 0 else 0.0,
            "shares_before": before,
            "shares_after": after,
            "reason": reason,
        }
    )
    trades = trades.sort_values(["side", "notional"], ascending=[False, False]).reset_index(drop=True)
    return TradeList(trades[list(TRADE_COLUMNS)], float(cash_before), float(remaining), float(portfolio_value), tuple(notes))
