# pubgraph: the two commands a new user needs.
#   make demo   set up, start the local Neo4j and run the main job end to end
#   make test   set up and run the test suite against a real Neo4j
.PHONY: demo test lint
demo:
	./scripts/demo.sh
test:
	./scripts/test.sh
lint:
	./scripts/lint.sh
