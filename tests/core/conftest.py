"""Fixtures shared by the core tests."""
import subprocess
import uuid

import pytest


@pytest.fixture
def os_user():
    """A factory of throw-away OS accounts (useradd, root only), removed afterwards."""
    made = []

    def make(prefix="dju"):
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", "-p", "*", name], check=True)
        made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(["userdel", "-f", name], capture_output=True)
