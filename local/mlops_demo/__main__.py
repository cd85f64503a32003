import sys

from mlops_demo.cli import main

sys.exit(main())
