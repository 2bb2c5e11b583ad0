# pubgraph: the two commands a new user needs.
#   make demo   set up, start the local Neo4j and run the main job end to end, ending in the
#               dashboard (DEMO_ARGS="--size full" for the whole corpus, "--no-serve" for scripts)
#   make test   set up and run the test suite against a real Neo4j
.PHONY: demo test lint test-reliability
DEMO_ARGS ?=
demo:
	./scripts/demo.sh $(DEMO_ARGS)
test:
	./scripts/test.sh
lint:
	./scripts/lint.sh
test-reliability:
	./scripts/test.sh -m reliability tests/reliability
