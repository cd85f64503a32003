"""The model deployer (ModelDeployerFunction's domain), a module per thing it does.

- ``deployer``: ``ModelDeployer``, the routes (one per event type) the handler calls; each
  parses, decides whether the event is for this stack, and hands over to one of the parts below.
- ``roll_out``: deploy a version (checks, model, endpoint config, create or update the endpoint
  with its strategy, alarms and data capture; a busy or failed endpoint defers it).
- ``roll_back``: take a live version off (rejected, alias removed; a rejected shadow is removed),
  and report SageMaker's alarm rollbacks.
- ``pending``: the endpoints' PENDING deployments (stored, applied, forgotten; failed and
  deleting endpoints).
- ``housekeeping``: an endpoint in service keeps only what it needs (configs, models, alarms, version tags).
- ``versions``: what is deployed (``DeployableVersion``), one deployment
  (``DeploymentRequest``), and ``VersionSource``, what a backend says about its versions;
  ``registry_versions`` and ``mlflow_versions``: the two backends' sources.
- ``context``: what the parts share (settings and ports, a few reads, the outcomes they report).
- ``endpoint_configs``: the SageMaker requests of a deployment, as pure functions.

Imports go one way: ``versions`` <- ``context`` <- the sources, ``pending``, ``housekeeping`` <-
``roll_out`` <- ``roll_back`` <- ``deployer``. A pending deployment applied at once goes back to the
deployer through the small ``pending.Deployer`` protocol, not an import.
"""
