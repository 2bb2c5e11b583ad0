from pubgraph.cli import main

main()
