# SpaceONE on Kubernetes with Pulumi (Go). `make help` lists the targets.
SHELL := /bin/bash
STACK ?= minikube
OUT ?= rendered/$(STACK)
ARGS ?=

.PHONY: help tools up preview destroy backup restore render readme test test-unit test-integration bench sim-up sim-down sim-status dev-connect clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

tools: ## build pulumi, its Go host, the kubernetes provider and the sim control plane (cached)
	@scripts/tools.sh

up: ## deploy stack $(STACK) (default minikube; STACK=sim starts the sim control plane)
	@scripts/preflight.sh $(STACK)
	@scripts/tools.sh >/dev/null
	@scripts/up.sh up $(STACK) $(ARGS)

preview: tools ## show what `make up` would change
	@scripts/up.sh preview $(STACK) $(ARGS)

destroy: tools ## remove everything stack $(STACK) deployed
	@scripts/up.sh destroy $(STACK) $(ARGS)

backup: tools ## take a backup of stack $(STACK)'s data now and print its name
	@scripts/backup.sh $(STACK)

restore: tools ## put backup $(FROM) back into stack $(STACK) (sets spaceone:restore, runs up)
	@scripts/restore.sh $(STACK) $(FROM)

render: tools ## write every manifest of stack $(STACK) as YAML into $(OUT) (no cluster needed; RELEASE=1.12.12 for another release)
	@scripts/render.sh $(STACK) $(OUT) $(RELEASE)

readme: ## regenerate the README's generated parts (catalogue tables, start order) from the code
	@go test ./components/program ./components/catalog -run 'TestREADMEStartOrderIsTheCode|TestReadmeTableMatchesCatalogue' -count=1 -update

test: tools ## unit tests (Pulumi mocks) and integration tests (real CLI against the sim)
	@scripts/test.sh

test-unit: ## unit tests only
	@go test ./components/... ./cmd/...

bench: tools ## measure tools, tests and pulumi up/no-op up/destroy on the sim; writes bench/*.txt
	@scripts/bench.sh

dev-connect: ## forward every gRPC service and store of $(STACK) to fixed localhost ports (Ctrl-C stops)
	@scripts/dev-connect.sh $(STACK)

sim-up: tools ## start the sim control plane (loopback-only network namespace)
	@scripts/sim.sh up

sim-down: ## stop the sim control plane
	@scripts/sim.sh down

sim-status: ## is the sim control plane running?
	@scripts/sim.sh status

clean: sim-down ## stop the sim and remove local state of this checkout (not the tool cache)
	rm -rf .pulumi .tools rendered
