from test_gate.cli import main

raise SystemExit(main())
