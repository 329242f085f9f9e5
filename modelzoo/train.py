"""`python -m modelzoo.train MODEL [options]`: train a model; see `--help`."""

import sys

from modelzoo.cli import train_main

if __name__ == "__main__":
    sys.exit(train_main())
