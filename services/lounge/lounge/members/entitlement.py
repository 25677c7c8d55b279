"""Tier rules at the lounge door (docs/lounge.md): gold and above enter free, with free guests by tier."""

from airside.events.common import Tier

GUEST_ALLOWANCE = {Tier.vip: 3, Tier.platinum: 2, Tier.gold: 1, Tier.standard: 0}
FREE_ENTRY_TIERS = frozenset({Tier.gold, Tier.platinum, Tier.vip})


def enters_free(tier: Tier) -> bool:
    return tier in FREE_ENTRY_TIERS


def guest_allowance(tier: Tier) -> int:
    return GUEST_ALLOWANCE[tier]
