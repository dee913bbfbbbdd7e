from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest

from detainers.clock import OverDetention, OverDetentionFlag, over_detention

CDT = timezone(timedelta(hours=-5))


def test_cook_county_g14() -> None:
    eligible = datetime(2022, 4, 4, 13, 20, tzinfo=CDT)
    result = over_detention(
        eligible_at=eligible,
        hold_until=eligible,
        released_at=datetime(2022, 4, 4, 19, 20, tzinfo=CDT),
        detainer_in_force=True,
    )
    assert result == OverDetention(hours=6.0, flags=(OverDetentionFlag.BEYOND_RELEASE,))
    assert [f.value for f in result.flags] == ["beyond_release"]


def test_beyond_48h() -> None:
    eligible = datetime(2024, 3, 8, 19, tzinfo=UTC)
    result = over_detention(
        eligible_at=eligible,
        hold_until=eligible + timedelta(hours=48),
        released_at=eligible + timedelta(hours=50, minutes=30),
        detainer_in_force=True,
    )
    assert result.hours == 2.5
    assert result.flags == (OverDetentionFlag.BEYOND_48H,)


def test_within_lawful_hold_or_not_released() -> None:
    eligible = datetime(2024, 3, 8, 19, tzinfo=UTC)
    hold = eligible + timedelta(hours=48)
    assert over_detention(eligible_at=eligible, hold_until=hold, released_at=hold, detainer_in_force=True) == (
        OverDetention(0.0, ())
    )
    assert over_detention(
        eligible_at=eligible, hold_until=hold, released_at=eligible - timedelta(hours=1), detainer_in_force=True
    ) == OverDetention(0.0, ())
    assert over_detention(eligible_at=eligible, hold_until=hold, released_at=None, detainer_in_force=True).hours == 0


def test_not_attributable_when_no_detainer_in_force() -> None:
    eligible = datetime(2024, 3, 8, 19, tzinfo=UTC)
    result = over_detention(
        eligible_at=eligible,
        hold_until=eligible,
        released_at=eligible + timedelta(hours=10),
        detainer_in_force=False,
    )
    assert result == OverDetention(0.0, ())


def test_g16_miranda_olivares_with_constructive_bail_period() -> None:
    pst = timezone(timedelta(hours=-7))
    eligible = datetime(2012, 3, 29, 15, tzinfo=pst)
    result = over_detention(
        eligible_at=eligible,
        hold_until=eligible,
        released_at=eligible + timedelta(hours=19),
        detainer_in_force=True,
        bail_refused_at=eligible - timedelta(days=10, seconds=1),
    )
    assert result.hours == pytest.approx(19 + 240 + 1 / 3600)
    assert result.hours == (19 * 3600 + 240 * 3600 + 1) / 3600
    assert result.flags == (OverDetentionFlag.BEYOND_RELEASE, OverDetentionFlag.BAIL_REFUSED)


def test_bail_refusal_not_before_eligibility_adds_nothing() -> None:
    eligible = datetime(2024, 3, 8, 19, tzinfo=UTC)
    result = over_detention(
        eligible_at=eligible, hold_until=eligible, released_at=None, detainer_in_force=True, bail_refused_at=eligible
    )
    assert result == OverDetention(0.0, ())
    constructive = over_detention(
        eligible_at=eligible,
        hold_until=eligible,
        released_at=None,
        detainer_in_force=True,
        bail_refused_at=eligible - timedelta(minutes=90),
    )
    assert constructive == OverDetention(1.5, (OverDetentionFlag.BAIL_REFUSED,))


def test_mixed_offsets_compare_as_instants() -> None:
    eligible = datetime(2022, 4, 4, 18, 20, tzinfo=UTC)
    result = over_detention(
        eligible_at=eligible,
        hold_until=eligible,
        released_at=datetime(2022, 4, 4, 19, 20, tzinfo=CDT),
        detainer_in_force=True,
    )
    assert result.hours == 6.0


def test_validation() -> None:
    eligible = datetime(2024, 3, 8, 19, tzinfo=UTC)
    with pytest.raises(ValueError, match="precedes"):
        over_detention(
            eligible_at=eligible, hold_until=eligible - timedelta(seconds=1), released_at=None, detainer_in_force=True
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        over_detention(eligible_at=datetime(2024, 3, 8), hold_until=eligible, released_at=None, detainer_in_force=True)
    with pytest.raises(ValueError, match="timezone-aware"):
        over_detention(
            eligible_at=eligible, hold_until=eligible, released_at=datetime(2024, 3, 9), detainer_in_force=True
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        over_detention(
            eligible_at=eligible,
            hold_until=eligible,
            released_at=None,
            detainer_in_force=True,
            bail_refused_at=datetime(2024, 3, 1),
        )


def test_result_is_frozen() -> None:
    result = OverDetention(1.0, ())
    with pytest.raises(FrozenInstanceError):
        result.hours = 2.0  # type: ignore[misc]


def test_same_zoneinfo_across_dst_uses_real_time() -> None:
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    eligible = datetime(2024, 11, 3, 0, 30, tzinfo=ny)
    result = over_detention(
        eligible_at=eligible,
        hold_until=eligible,
        released_at=datetime(2024, 11, 3, 2, 30, tzinfo=ny),  # 3 real hours, 2 on the wall
        detainer_in_force=True,
    )
    assert result.hours == 3.0
    # The two 01:30s of the fold are an hour apart although their wall clocks are equal.
    first = datetime(2024, 11, 3, 1, 30, tzinfo=ny)
    second = datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=ny)
    folded = over_detention(eligible_at=first, hold_until=first, released_at=second, detainer_in_force=True)
    assert folded == OverDetention(1.0, (OverDetentionFlag.BEYOND_RELEASE,))
