import pytest

from services.learning.rhythm import energy_fit, rhythm_of


def test_rhythms_are_ordered_from_lark_to_owl():
    lark, middle, owl = rhythm_of("morning"), rhythm_of(None), rhythm_of("evening")
    assert lark.wake < middle.wake < owl.wake
    assert lark.sleep < middle.sleep < owl.sleep
    assert rhythm_of("neutral") == middle
    for r in (lark, middle, owl):
        assert r.wake < r.peak < r.sleep


@pytest.mark.parametrize("minute", range(0, 1440, 37))
def test_energy_fit_is_bounded_and_opposite_for_opposite_types(minute):
    lark, owl = energy_fit(minute, "morning"), energy_fit(minute, "evening")
    assert -1.0 <= lark <= 1.0 and -1.0 <= owl <= 1.0
    assert energy_fit(minute, None) == energy_fit(minute, "neutral") == 0.0


def test_energy_fit_peaks_at_the_energy_peak():
    assert energy_fit(rhythm_of("morning").peak, "morning") == pytest.approx(1.0)
    assert energy_fit(rhythm_of("morning").peak + 720, "morning") == pytest.approx(-1.0)
