import sys

from metanet.train import cli_main

sys.exit(cli_main())
