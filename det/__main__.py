"""`python -m det train|test|demo ...` (see det.cli)."""
import sys

from det.cli import main

sys.exit(main())
