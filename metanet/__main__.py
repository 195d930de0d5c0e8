import sys

from metanet.cli import main

sys.exit(main())
