from snaprace.cli import main

main()
