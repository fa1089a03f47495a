import pytest

from core import config
from core.config import ConfigError


def write(tmp_path, text, name="city.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_have_every_spec_rule(dangjian_env):
    cfg = config.load()
    spec_rules = [
        "org.kind_size", "worker.college_graduate", "worker.backup_pool", "worker.age_structure",
        "worker.one_shoulder", "train.leader", "train.staff", "train.degree_encouraged",
        "train.secretary_quals_trend", "worker.certificate", "worker.secretary_filed", "worker.dual_report",
        "pay.secretary_floor", "service.opinion_meetings", "service.reception_weekly", "service.visit_weekly",
        "service.schedule_published", "service.demand_response", "member.floating_in_placed",
        "orglife.three_meetings_one_lesson", "orglife.democratic_evaluation", "orglife.absence_without_leave",
        "dues.on_time", "member.immobile_visited", "member.floating_out_contact", "democracy.four_two",
        "democracy.affairs_published", "funding.floor", "funding.published",
    ]
    for rid in spec_rules:
        assert rid in cfg.defaults["params"], rid
    assert cfg.defaults["params"]["train.leader"]["min_days"] == 7
    assert cfg.defaults["params"]["service.reception_weekly"]["min_share"] == 0.9


def test_every_rule_section_has_clause_comment():
    text = config.default_path().read_text(encoding="utf-8")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith('[params."'):
            assert lines[i + 1].startswith("# 第"), line


def test_layering_and_town_override(dangjian_env, tmp_path):
    p = write(tmp_path, """
[params."train.staff"]
min_days = 6

[towns."巴城镇".params."train.staff"]
min_days = 4
""")
    cfg = config.load(p)
    vals, origin = cfg.rule_params("train.staff", {}, None)
    assert vals["min_days"] == 6 and origin["min_days"].startswith("city config")
    vals, origin = cfg.rule_params("train.staff", {}, "巴城镇")
    assert vals["min_days"] == 4 and origin["min_days"].startswith("town config")
    vals, origin = cfg.rule_params("train.staff", {}, "玉山镇")
    assert vals["min_days"] == 6
    vals, origin = cfg.rule_params("train.staff", {}, "巴城镇", town_defaults={"min_trainings": 2})
    assert vals["min_trainings"] == 2 and origin["min_trainings"] == "town plugin"


def test_env_var_names_config(dangjian_env, tmp_path, monkeypatch):
    p = write(tmp_path, 'lang = "en"\n')
    monkeypatch.setenv("DANGJIAN_CONFIG", str(p))
    assert config.load().lang == "en"


@pytest.mark.parametrize("text, fragments", [
    ("colour = 1\n", ["unknown key 'colour'", "allowed"]),
    ('lang = "fr"\n', ["lang", "zh", "en"]),
    ("[points]\nshow_ranking = 1\n", ["show_ranking", "boolean"]),
    ("[points]\nranking = true\n", ["[points] ranking", "show_ranking"]),
    ("plugin_dirs = 'x'\n", ["plugin_dirs", "list"]),
    ("this is not toml", ["not valid TOML"]),
])
def test_bad_files_name_file_key_and_allowed(dangjian_env, tmp_path, text, fragments):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        config.load(p)
    msg = str(exc.value)
    assert str(p) in msg
    for f in fragments:
        assert f in msg


@pytest.mark.parametrize("text, fragments", [
    ('[params."no.such_rule"]\nx = 1\n', ["unknown rule id 'no.such_rule'", "org.kind_size"]),
    ('[params."train.staff"]\nmin_dayz = 1\n', ["min_dayz", "allowed: min_days, min_trainings"]),
    ('[params."train.staff"]\nmin_days = "five"\n', ["min_days", "number"]),
    ('[params."service.reception_weekly"]\nmin_share = 90\n', ["min_share", "fraction"]),
    ('[params."worker.age_structure"]\nage_range = [45, 35]\n', ["age_range", "range"]),
    ('[params."orglife.democratic_evaluation"]\nmax_excellent_share = "a/b"\n', ["exact fraction"]),
    ('[towns."巴城镇".params."train.staff"]\nmin_dayz = 1\n', ['towns."巴城镇"', "min_dayz"]),
])
def test_bad_rule_params(dangjian_env, tmp_path, text, fragments):
    p = write(tmp_path, text)
    cfg = config.load(p)
    known = {rid: {} for rid in cfg.defaults["params"]}
    with pytest.raises(ConfigError) as exc:
        cfg.validate_rule_params(known)
    msg = str(exc.value)
    assert str(p) in msg
    for f in fragments:
        assert f in msg


def test_missing_config_file(dangjian_env, tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path / "nope.toml")


def test_plugin_dirs_relative_to_config_file(dangjian_env, tmp_path):
    (tmp_path / "sub").mkdir()
    p = write(tmp_path / "sub", 'plugin_dirs = ["plugins", "/abs/dir"]\n')
    cfg = config.load(p)
    assert cfg.plugin_dirs == [tmp_path / "sub" / "plugins", __import__("pathlib").Path("/abs/dir")]


@pytest.mark.parametrize("text, fragments", [
    ('[scoring."member-point"]\nbase = 1\n', ["unknown scorer 'member-point'", "member-points"]),
    ('[scoring."member-points"]\nper_volunteer_hour = 1\n', ["per_volunteer_hour", "volunteer_hours_per_point"]),
    ('[scoring."member-points"]\nbase = "sixty"\n', ["base", "number"]),
    ('[scoring."community-score"]\npublic_evaluation_weight = 20\n', ["public_evaluation_weight", "fraction"]),
    ('[towns."巴城镇".scoring."member-points"]\nbasis = 1\n', ['towns."巴城镇".scoring', "basis"]),
])
def test_bad_scoring_sections_refused_by_the_cli(dangjian_env, tmp_path, capsys, text, fragments):
    from core.cli import main

    p = write(tmp_path, text)
    assert main(["--db", f"sqlite:///{tmp_path / 'a.db'}", "--config", str(p), "plugins"]) == 2
    err = capsys.readouterr().err
    assert str(p) in err
    for f in fragments:
        assert f in err


def test_good_scoring_override_accepted(dangjian_env, tmp_path, capsys):
    from core.cli import main

    p = write(tmp_path, '[scoring."member-points"]\nbase = 50\n[towns."巴城镇".scoring."community-score"]\n'
                        'advanced_min = 90\n[towns."巴城镇".scoring."community-score".goods]\n"org.kind_size" = "cadres"\n')
    assert main(["--db", f"sqlite:///{tmp_path / 'a.db'}", "--config", str(p), "plugins"]) == 0
