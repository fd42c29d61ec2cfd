"""Stand-in for the get-pip script that ansible-test uses to put pip into its sanity venvs.

ansible-test creates every sanity venv without pip and runs a get-pip script to add the
pip version it pins. It downloads that script from Ansible's CI file server, which CI
here cannot reach (it reaches the package registries only), and reuses a copy it finds
in its cache, ~/.ansible/test/cache/get_pip_<version>.py. scripts/sanity.sh puts this
file there under that name when the cache holds no script, so the download never
happens.

It does what get-pip does with the arguments ansible-test passes
(`--disable-pip-version-check pip==X --no-setuptools --no-wheel`): install that pip,
and only that, into the running interpreter's environment. It takes the pinned pip from
the package index, using the pip that ships with Python to fetch it.
"""
import ensurepip
import glob
import importlib.metadata
import os
import subprocess
import sys

# Marks a cached copy of this file, so that scripts/sanity.sh may refresh it.
STANDIN_MARKER = "virinco.pywats get-pip stand-in"

SKIP_OPTIONS = {"--no-setuptools": "setuptools", "--no-wheel": "wheel"}


def bundled_pip_wheel():
    """The pip wheel that ensurepip would install, or None where the distribution moved it."""
    wheels = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))
    return max(wheels) if wheels else None


def installed():
    return {(dist.metadata["Name"] or "").lower() for dist in importlib.metadata.distributions()}


def main():
    args = sys.argv[1:]
    unwanted = [name for option, name in SKIP_OPTIONS.items() if option in args]
    pip_args = [arg for arg in args if arg not in SKIP_OPTIONS]
    wheel = bundled_pip_wheel()
    if wheel:
        # pip runs from its own wheel: the quickest way, and it installs nothing else.
        subprocess.check_call([sys.executable, os.path.join(wheel, "pip"), "install"] + pip_args)
        return
    # Otherwise (Debian keeps the wheels elsewhere) let ensurepip install its pip first.
    # It clears every PIP_* variable and points PIP_CONFIG_FILE at /dev/null for good; the
    # pinned pip must be fetched with the machine's own settings (index, certificates,
    # cache), so keep them aside.
    env = dict(os.environ)
    before = installed()
    ensurepip.bootstrap()  # on Python < 3.12 this brings setuptools along
    python = [sys.executable, "-m", "pip"]
    subprocess.check_call(python + ["install"] + pip_args, env=env)
    extra = [name for name in unwanted if name in installed() - before]
    if extra:
        subprocess.check_call(python + ["uninstall", "--yes", "--quiet"] + extra, env=env)


if __name__ == "__main__":
    main()
