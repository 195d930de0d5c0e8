import sys

# through the `metanet` command's main, as `metanet train ...`: its Ctrl-C handling covers Lightning's import too
from metanet.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
