from __future__ import annotations

import pytest
from mlops_core.contract.topology import Scenario, Stage, parse_stages, promotion_targets, stages_of


def test_baseline_has_feature_dev_prod_and_promotes_into_prod():
    assert stages_of(Scenario.BASELINE) == (Stage.FEATURE, Stage.DEV, Stage.PROD)
    assert promotion_targets(Scenario.BASELINE) == (Stage.PROD,)


def test_advanced_replaces_prod_by_champion_and_challenger_and_promotes_into_both():
    assert stages_of(Scenario.ADVANCED) == (Stage.FEATURE, Stage.DEV, Stage.CHAMPION, Stage.CHALLENGER)
    assert promotion_targets(Scenario.ADVANCED) == (Stage.CHAMPION, Stage.CHALLENGER)


def test_production_stages():
    assert {stage for stage in Stage if stage.is_production} == {Stage.PROD, Stage.CHAMPION, Stage.CHALLENGER}


def test_deployed_stages_parameter_parses_and_names_unknown_stages():
    assert parse_stages("feature, dev") == {Stage.FEATURE, Stage.DEV}
    with pytest.raises(ValueError, match="unknown stage 'staging'"):
        parse_stages("dev,staging")
    with pytest.raises(ValueError, match="no stages"):
        parse_stages(" , ")
