"""Identity from the effective uid (not USER/LOGNAME), SUDO_USER only behind a real sudo, scopes, masking."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import textwrap
import uuid

import pytest

from core import access
from core.access import Principal
from core.errors import AccessDenied, UserError

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="creating OS accounts and changing uid needs root")


@pytest.fixture
def os_user():
    """A throw-away OS account (useradd), removed afterwards."""
    made = []

    def make(prefix="djt"):
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", "-p", "*", name], check=True)
        made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(["userdel", "-f", name], capture_output=True)


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


@needs_root
def test_sudo_user_is_ignored_without_a_real_sudo(tmp_path):
    """The effective account is the service account, SUDO_USER is set, but no sudo started us."""
    cfg = tmp_path / "svc.toml"
    cfg.write_text('service_account = "root"\n', encoding="utf-8")
    env = dict(os.environ, SUDO_USER="mallory", SUDO_UID="1234", DANGJIAN_CONFIG=str(cfg))
    code = "import core.config, core.access; core.config.load(); print(core.access.os_login())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "root"


@needs_root
@pytest.mark.skipif(not shutil.which("sudo") or not shutil.which("runuser"), reason="sudo/runuser not installed")
def test_sudo_user_counts_when_started_by_sudo_to_the_service_account(os_user, tmp_path):
    """staff --sudo--> service account: the identity is the staff account (kernel-checked).

    The service account here is root, so the test needs no world-readable Python install.
    """
    staff = os_user("djs")
    rule = f"/etc/sudoers.d/dangjian_test_{staff}"
    with open(rule, "w") as fh:
        fh.write(f"{staff} ALL=(root) NOPASSWD: {sys.executable}\n")
    os.chmod(rule, 0o440)
    cfg = tmp_path / "svc.toml"
    cfg.write_text('service_account = "root"\n', encoding="utf-8")
    os.chmod(tmp_path, 0o755)
    os.chmod(cfg, 0o644)
    try:
        code = (f"import core.config, core.access; core.config.load({str(cfg)!r}); "
                "print(core.access.os_login())")
        proc = subprocess.run(["runuser", "-u", staff, "--", "sudo", "-n", "-u", "root", sys.executable, "-c",
                               code], capture_output=True, text=True, cwd="/")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == staff
        # a service account that is not the configured one keeps its own identity
        cfg.write_text('service_account = "dangjian_nobody"\n', encoding="utf-8")
        proc = subprocess.run(["runuser", "-u", staff, "--", "sudo", "-n", "-u", "root", sys.executable, "-c",
                               code], capture_output=True, text=True, cwd="/")
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
    access.set_current(Principal("a", "community", "A1", full_personal_data=False))
    assert access.show_id("32058319700101001X") == "320583********001X"
    assert access.show_phone("13812345678") == "138****5678"
    access.set_current(Principal("a", "community", "A1", full_personal_data=True))
    assert access.show_id("32058319700101001X") == "32058319700101001X"
