"""Identity from the effective uid (not USER/LOGNAME), SUDO_USER only behind a real sudo, scopes, masking."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import textwrap

import pytest

from core import access
from core.access import Principal
from core.errors import AccessDenied, UserError
from tests import server_env

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="creating OS accounts and changing uid needs root")


def _run_as_euid(uid: int, code: str, env: dict) -> str:
    """Run ``code`` in a fresh Python that imports core as root, then drops the effective uid."""
    prog = textwrap.dedent(f"""
        import os, sys
        import core.access, core.config, core.i18n, tomllib  # import before dropping the uid
        os.seteuid({uid})
    """) + textwrap.dedent(code)
    proc = subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@needs_root
def test_identity_is_the_effective_uid_not_environment(os_user):
    name = os_user()
    uid = pwd.getpwnam(name).pw_uid
    env = dict(os.environ, USER="root", LOGNAME="root", SUDO_USER="root", SUDO_UID="0")
    out = _run_as_euid(uid, "print(core.access.os_login())", env)
    assert out == name
    # and as root with USER/LOGNAME pointing at the other account: still root
    env = dict(os.environ, USER=name, LOGNAME=name)
    out = subprocess.run([sys.executable, "-c", "import core.access; print(core.access.os_login())"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "root"


def test_sudo_user_without_a_real_sudo_is_refused(service_mode, monkeypatch):
    """The effective account is the service account, SUDO_USER is set, but no sudo started us."""
    monkeypatch.setenv("SUDO_USER", "mallory")
    monkeypatch.setenv("SUDO_UID", str(os.getuid()))
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: pwd.struct_passwd(("mallory", "x", uid, uid, "", "/", "/bin/sh")))
    with pytest.raises(UserError, match="上级进程中没有 sudo"):
        access.os_login()


@needs_root
@pytest.mark.skipif(not shutil.which("sudo") or not shutil.which("runuser"), reason="sudo/runuser not installed")
@pytest.mark.skipif(not server_env.NAMESPACES, reason=server_env.WHY_NOT)
def test_sudo_user_counts_when_started_by_sudo_to_the_service_account(os_user, tmp_path):
    """staff --sudo--> service account: the identity is the staff account (kernel-checked).

    The service account here is root, so the test needs no world-readable Python install
    (tests/core/test_server.py runs an unprivileged service account).
    """
    staff = os_user("djs")
    rule = f"/etc/sudoers.d/dangjian_test_{staff}"
    with open(rule, "w") as fh:
        fh.write(f"{staff} ALL=(root) NOPASSWD: {sys.executable}\n")
    os.chmod(rule, 0o440)
    etc = tmp_path / "etc"
    code = "import core.access; print(core.access.os_login())"
    argv = ["runuser", "-u", staff, "--", "sudo", "-n", "-u", "root", sys.executable, "-c", code]
    try:
        with server_env.etc_mountpoint():
            server_env.write_system_config(etc, 'service_account = "root"\n')
            proc = subprocess.run(server_env.in_namespace(etc, argv), capture_output=True, text=True, cwd="/")
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.strip() == staff
            # a service account that is not the configured one keeps its own identity
            server_env.write_system_config(etc, 'service_account = "dangjian_nobody"\n')
            proc = subprocess.run(server_env.in_namespace(etc, argv), capture_output=True, text=True, cwd="/")
            assert proc.stdout.strip() == "root", proc.stderr
    finally:
        os.unlink(rule)


def test_single_user_mode_while_table_is_empty(dangjian_db):
    p = access.resolve("whoever")
    assert p.single_user and p.is_admin and p.scope_community_ids() is None


def test_unknown_account_refused_once_users_exist(dangjian_db):
    from core.models import User

    User.create(login="alice", role="admin", scope="city")
    with pytest.raises(AccessDenied) as err:
        access.resolve("bob")
    assert "bob" in str(err.value) and "users add" in str(err.value)
    assert access.resolve("alice").role == "admin"


def test_scope_validation(dangjian_db):
    from tests.core.test_records import build_tree

    access.set_current(Principal("root", "admin", "city"))
    build_tree()
    assert access.validate_scope("community", "A1") == "A1"
    assert access.validate_scope("town", "甲镇") == "甲镇"
    assert access.validate_scope("street", "甲镇/东街道") == "甲镇/东街道"
    assert access.validate_scope("city", None) == "city"
    for role, scope in [("community", "ZZ"), ("town", "丙镇"), ("street", "甲镇"), ("street", "乙镇/东街道"),
                        ("city", "A1"), ("admin", "甲镇"), ("boss", "city")]:
        with pytest.raises(UserError):
            access.validate_scope(role, scope)


def test_scope_ids_and_masking(dangjian_db):
    from tests.core.test_records import build_tree

    access.set_current(Principal("root", "admin", "city"))
    t = build_tree()
    c = t["comm"]
    assert Principal("a", "community", "A1").scope_community_ids() == {c["A1"].id}
    assert Principal("a", "street", "甲镇/东街道").scope_community_ids() == {c["A1"].id}
    assert Principal("a", "town", "甲镇").scope_community_ids() == {c["A1"].id, c["A2"].id}
    assert Principal("a", "town", "city").scope_community_ids() == frozenset()  # never widened to the city
    assert Principal("a", "city", "city").scope_community_ids() is None
    from core.view import View

    masked = View.of(Principal("a", "community", "A1", full_personal_data=False))
    assert masked.mask_id("32058319700101001X") == "320583********001*"
    assert masked.mask_phone("13812345678") == "138****5678"
    full = View.of(Principal("a", "community", "A1", full_personal_data=True))
    assert full.mask_id("32058319700101001X") == "32058319700101001X"


# ---------------------------------------------------------------- scope through every headless face

def _run(principal, argv, capsys):
    """``dangjian ARGV`` as ``principal``: (exit code, stdout + files written, stderr)."""
    from core.cli import main

    access.set_current(principal)
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _all_ids():
    from core.models import Member, Worker

    return {m.id_number for m in Member.select(Member.id_number)} | {w.id_number for w in Worker.select(Worker.id_number)}


def _assert_nothing_of_yushan(text, full_ids, where):
    # the tiny city's 玉山镇 community is YS01, its people's ID numbers start 320584
    assert "YS01" not in text and "玉山" not in text and "320584" not in text, (where, text[:3000])
    leaked = [i for i in full_ids if i in text]
    assert not leaked, (where, leaked)  # masked user: no full ID number anywhere


@pytest.fixture
def clerk(dangjian_city):
    return Principal("clerk", "community", "BC01", read_only=False, full_personal_data=False)


def test_check_is_limited_to_the_scope(clerk, capsys):
    import json as _json

    code, out, err = _run(clerk, ["check", "--community", "YS01", "--format", "json", "--no-store"], capsys)
    assert code == 2 and "YS01" in err and "Traceback" not in err  # refused, not empty-and-silent
    code, out, err = _run(clerk, ["check", "--town", "玉山镇", "--format", "json", "--no-store"], capsys)
    assert code == 2 or _json.loads(out) == []
    code, out, err = _run(clerk, ["check", "--year", "2025", "--all", "--format", "json", "--no-store"], capsys)
    assert code in (0, 1), err
    findings = _json.loads(out)
    assert findings and {f["community"] for f in findings} <= {"BC01", None}
    _assert_nothing_of_yushan(out, _all_ids(), "check --all")


def test_reports_and_scores_are_limited_to_the_scope(clerk, capsys, tmp_path):
    from core import plugins

    reg = plugins.get().registry
    ids = _all_ids()
    assert reg.reports, "no reports registered"
    for name, rep in sorted(reg.reports.items()):
        fmt = "json" if "json" in (rep.formats or ()) else "html"
        code, out, err = _run(clerk, ["report", name, "--year", "2025", "--format", fmt], capsys)
        if code == 2:  # a per-community report (the ledger) needs --community
            assert "Traceback" not in err
        else:
            assert code in (0, 1), (name, err)
            _assert_nothing_of_yushan(out, ids, f"report {name}")
        code, out, err = _run(clerk, ["report", name, "--year", "2025", "--community", "BC01", "--format", fmt],
                              capsys)
        assert code in (0, 1), (name, err)
        _assert_nothing_of_yushan(out, ids, f"report {name} --community BC01")
        code, out, err = _run(clerk, ["report", name, "--year", "2025", "--community", "YS01", "--format", fmt],
                              capsys)
        assert code == 2 or "YS01" not in out, (name, out[:500])
    for name in reg.scorer_names():
        code, out, err = _run(clerk, ["score", name, "--year", "2025", "--format", "json"], capsys)
        assert code in (0, 1), (name, err)
        _assert_nothing_of_yushan(out, ids, f"score {name}")


def test_exports_are_limited_and_masked(clerk, capsys, tmp_path):
    from core import kinds

    ids = _all_ids()
    exported = 0
    for kind in kinds.names():
        path = tmp_path / f"{kind}.csv"
        code, out, err = _run(clerk, ["export", kind, str(path)], capsys)
        if code == 2:  # admin-only kinds may be refused
            assert "Traceback" not in err
            continue
        assert code == 0, (kind, err)
        text = path.read_text(encoding="utf-8-sig")
        _assert_nothing_of_yushan(text, ids, f"export {kind}")
        exported += 1
    assert exported >= 10
    text = (tmp_path / "members.csv").read_text(encoding="utf-8-sig")
    assert "张伟" in text and "陈静" not in text


def test_import_into_another_community_is_refused(clerk, capsys, tmp_path):
    from core.models import Visit

    n = Visit.select().count()
    path = tmp_path / "visits.csv"
    path.write_text("社区编码,类型,日期,接待人身份号码,对象身份号码,人次,诉求,答复日期,办结日期\n"
                    "YS01,接待日,2025-05-06,,,1,,,\n", encoding="utf-8")
    code, out, err = _run(clerk, ["import", "visits", str(path)], capsys)
    assert code == 2 and "Traceback" not in err
    assert Visit.select().count() == n
    reader = Principal("reader", "community", "BC01", read_only=True, full_personal_data=False)
    path.write_text("社区编码,类型,日期,接待人身份号码,对象身份号码,人次,诉求,答复日期,办结日期\n"
                    "BC01,接待日,2025-05-06,,,1,,,\n", encoding="utf-8")
    code, out, err = _run(reader, ["import", "visits", str(path)], capsys)
    assert code == 2 and Visit.select().count() == n
    code, out, err = _run(clerk, ["import", "visits", str(path)], capsys)
    assert code == 0, err
    assert Visit.select().count() == n + 1


def test_full_personal_data_flag_unmasks(dangjian_city, capsys):
    import json as _json

    full = Principal("boss", "community", "BC01", full_personal_data=True)
    code, out, err = _run(full, ["report", "roster", "--year", "2025", "--format", "json"], capsys)
    assert code == 0
    rows = _json.loads(out)
    w = dangjian_city.workers["周明"]
    assert any(w.id_number in _json.dumps(r, ensure_ascii=False) for r in rows)


def test_admin_only_import_kinds(clerk, capsys, tmp_path):
    from core.models import Community, UrbanWage

    n = Community.select().count()
    files = {
        "communities": "区镇,街道,社区编码,社区名称\n巴城镇,,BC09,新社区\n",
        "orgs": "组织编码,组织名称,组织类别,上级组织编码,社区编码,批准文号\nBC01-ZB2,二支部,党支部,,BC01,\n",
        "wages": "年度,城镇职工平均工资,来源\n2023,100000,统计公报\n",
    }
    city_user = Principal("cityclerk", "city", "city", full_personal_data=True)
    for kind, text in files.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        for who in (clerk, city_user):
            code, out, err = _run(who, ["--lang", "en", "import", kind, str(path)], capsys)
            assert code == 2 and "only an administrator" in err, (kind, who.role, err)
    assert Community.select().count() == n and not UrbanWage.select().where(UrbanWage.year == 2023).exists()
    admin = Principal("boss", "admin", "city", full_personal_data=True)
    code, out, err = _run(admin, ["import", "wages", str(tmp_path / "wages.csv")], capsys)
    assert code == 0, err
