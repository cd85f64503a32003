"""mlops_core: the control plane's shared package.

Every Lambda of the control plane imports this package from the shared layer. It holds the
contracts (names, tags, stage topology, AWS and domain events), the domain logic of each
function, and the small adapters through which that logic reaches AWS. Nothing here reads
``os.environ`` or builds an AWS client at import time: settings and clients are handed in.
"""
