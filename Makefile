# FerroLB. Two entry points: `make demo` and `make test` (both as root; see README.md).
CARGO ?= cargo
LAB = $(CARGO) run -q -p ferrolb-lab --

.PHONY: demo test bench setup build images testcluster helm metallb lint crds chart-crds manifests down

## demo: install what is missing, build, bring a lab of real nodes up and show it working
demo: setup build testcluster
	@$(LAB) down --name demo >/dev/null
	$(LAB) up --name demo --nodes-kind real
	$(LAB) demo --name demo
	@echo
	@echo "The lab keeps running. Take it down with: $(CARGO) run -q -p ferrolb-lab -- down"

## test: install what is missing, then lint and run every test (unit, integration, end-to-end)
test: setup lint testcluster helm metallb
	@# The end-to-end tests run the real binaries (controller, speaker) in the lab: build them first.
	$(CARGO) build --workspace --bins
	@# The release images (static binaries): the image and install tests check them.
	scripts/make-images >/dev/null
	$(CARGO) test --workspace
	@# Short runs of every decoder fuzz target (longer runs by hand: scripts/fuzz bgp 600;
	@# docs/reliability.md has the figures).
	@for target in bgp bfd arp ndp heartbeat annotations pool-entry config; do \
	  echo "fuzz $$target:"; scripts/fuzz $$target 10 || exit 1; done

## bench: FerroLB and MetalLB side by side, the same scenarios in fresh labs (about 80 minutes;
## release builds; writes docs/benchmarks/: results.json, results.md, plots)
bench: setup testcluster metallb
	$(CARGO) build --release --workspace --bins
	$(CARGO) run --release -q -p ferrolb-e2e --bin ferrolb-bench -- --out docs/benchmarks

setup:
	@scripts/setup

build:
	$(CARGO) build --workspace

## images: the controller's and the speaker's release images (static, reproducible) as
## archives in target/images, for ctr/podman/docker/kind (docs/install.md)
images:
	@scripts/make-images

testcluster:
	@scripts/build-testcluster >/dev/null

## metallb: build MetalLB's controller and speaker (native mode) into ~/.cache/ferrolb/metallb,
## once per release (the benchmark and its smoke test run them)
metallb:
	@scripts/build-metallb >/dev/null

## helm: build helm from the Go module proxy into ~/.cache/ferrolb/helm (the chart's tests run it)
helm:
	@scripts/build-helm >/dev/null

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@test -z "$$(gofmt -l e2e/testcluster)" || { echo "gofmt: run gofmt -w e2e/testcluster"; gofmt -l e2e/testcluster; exit 1; }

## crds: regenerate config/crd from the types in crds/ (a test fails when they drift)
crds:
	$(CARGO) run -q -p ferrolb-crds --features crdgen --bin crdgen
	@scripts/sync-chart-crds

## chart-crds: copy config/crd into the Helm chart (charts/ferrolb/templates/crds)
chart-crds:
	@scripts/sync-chart-crds

## manifests: render config/install (one-file installs) from config/ (a test fails when they drift)
manifests: testcluster
	scripts/render-manifests

down:
	$(LAB) down --all
