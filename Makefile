# Entry points for people and CI. Every target sets up what it needs.
#   make demo   deploy to a local fleet of three station containers + the stand-in
#   make test   lint, ansible-test sanity, unit tests, hotfix tests and every Molecule scenario
#   make appliance, make appliance-boot-test   build the VM appliance, boot it under qemu (also make test's appliance stage)
#   make images-arm64   Debian 12 and 13 arm64 images (qemu-user emulation)
#   make test-arm64     the arm64 stage alone: 12-arm64 image, Molecule scenario arm64, multi-arch container images
#   make test-wine      the wine stage alone: a Windows station under Wine (image 13-wine, the service run in pywin32's host)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export PIP_CACHE_DIR ?= /var/cache/pywats-test/pip
export PYWATS_PIP_CACHE ?= $(PIP_CACHE_DIR)

.PHONY: setup venv collection docker images images-arm64 demo demo-down test test-arm64 test-wine lint unit molecule molecule-arm64 sanity clean appliance appliance-boot-test

setup: venv collection docker images

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# The role is addressed as virinco.pywats.*: expose this tree as that collection.
collection:
	mkdir -p .collections/ansible_collections/virinco
	ln -sfn ../../.. .collections/ansible_collections/virinco/pywats

docker:
	scripts/ensure-docker.sh

images: docker
	scripts/build-images.sh 12 12-airgap 13 11

# Installs and registers qemu-user-static (binfmt_misc, F flag) when missing.
images-arm64: docker
	scripts/build-images.sh 12-arm64 13-arm64

# The demo's stations are Debian 12: it builds only that image.
demo: venv collection docker
	scripts/build-images.sh 12
	scripts/local-fleet.sh up

demo-down:
	scripts/local-fleet.sh down

test: setup
	scripts/run-tests.sh

lint: venv collection
	scripts/run-tests.sh lint

sanity: venv
	scripts/run-tests.sh sanity

unit: venv collection
	scripts/run-tests.sh unit

molecule: setup
	scripts/run-tests.sh molecule

# Part of `make test`; alone, for work on arm64 stations.
test-arm64: venv collection docker
	scripts/run-tests.sh arm64

# Part of `make test`; alone, for work on Windows stations.
test-wine: venv collection docker
	scripts/run-tests.sh wine

# The scenario alone (its image and the aarch64 wheels first).
molecule-arm64: venv collection docker
	scripts/build-images.sh 12-arm64
	scripts/run-tests.sh wheelhouse
	MOLECULE_SCENARIOS=arm64 scripts/run-tests.sh molecule

# The VM appliance (docs/appliance.md): as root on Debian; APPLIANCE_ARGS passes -e options.
appliance: venv collection
	ansible-playbook virinco.pywats.appliance_build $(APPLIANCE_ARGS)

# The boot test (report share, two boots, snapshot/restore) and the console UI test, on the
# image make appliance wrote; KVM where /dev/kvm works, else software emulation.
appliance-boot-test: venv collection
	command -v qemu-system-x86_64 >/dev/null && command -v cloud-localds >/dev/null && command -v smbclient >/dev/null \
	  && command -v tmux >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  qemu-system-x86 qemu-utils cloud-image-utils smbclient tmux >/dev/null; }
	$(PYTHON) tests/appliance/boot_test.py $(APPLIANCE_TEST_ARGS)
	$(PYTHON) tests/appliance/tui_test.py $(APPLIANCE_TEST_ARGS)

clean:
	-scripts/local-fleet.sh down
	rm -rf .collections .cache tests/output
