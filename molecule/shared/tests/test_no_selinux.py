"""Where SELinux is off (every container here) and not forced on, the role does
nothing SELinux-related: no semanage packages, no file-context or port rules."""


def test_no_selinux_packages_installed_by_the_role(host):
    if host.system_info.distribution in ("debian", "ubuntu"):
        # Not in our images: the role would have installed them to manage labels.
        assert not host.package("policycoreutils-python-utils").is_installed


def test_no_selinux_rules_registered(host):
    fcontexts = host.run("semanage fcontext --list --locallist --noheading")
    ports = host.run("semanage port --list --locallist --noheading")
    # semanage may be missing altogether (rc 127), which is the clean case.
    assert "pywats" not in fcontexts.stdout
    assert ports.stdout.strip() == "" or ports.rc != 0
