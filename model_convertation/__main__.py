"""`python -m model_convertation`."""

import sys

from model_convertation.cli import main

sys.exit(main())
