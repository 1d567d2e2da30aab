"""Running tasks on a cluster: the Ray backend of ``run_tasks(backend="ray")``.

Nothing here imports Ray until a run asks for it.
"""
