"""``python -m sim.calibrate calibration=<name> [overrides]``: calibrate a model config to its observed
series (configs/calibrate.yaml, configs/calibration/<name>.yaml), writing the outputs into a new
outputs/calibrate/... directory, or completing the one ``calibration.resume`` names. A user error (a bad
key, prior, observed file) is one line, exit 2; Ctrl-C keeps the finished waves and says how to resume."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.calibrate.run import calibrate, register_schema
from sim.cli import drop_if_empty, exit_now, exit_on_user_error, run_app
from sim.config import CONFIG_DIR
from sim.config.errors import EXIT_INTERRUPTED

register_schema()  # the root schema gains the `calibration` section (this process only)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="calibrate")
def _hydra_main(cfg: DictConfig) -> None:
    made = Path(HydraConfig.get().runtime.output_dir)
    resume = cfg.calibration.get("resume") if cfg.get("calibration") is not None else None
    out = Path(resume) if resume else made
    try:
        result = calibrate(cfg, out, progress=bool(cfg.run.progress))
    except Exception as e:  # noqa: BLE001 - a user's error is one line (exit_on_user_error); others re-raised
        exit_on_user_error(e, made)
    except KeyboardInterrupt:
        again = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "sim.calibrate", *sys.argv[1:]])
        print(
            f"\ninterrupted: finished waves are kept in {out}/waves; resume with: "
            f"{again} calibration.resume={shlex.quote(str(out))}",
            file=sys.stderr,
        )
        raise
    if resume:
        drop_if_empty(made)
    m = result.manifest
    if result.unmet:
        print(f"no point survived wave {m['waves_run']}: no parameter set meets " + "; ".join(result.unmet))
    elif result.parameters is not None:
        for _, row in result.parameters.iterrows():
            print(f"  {row['parameter']}: {row['median']:.4g} (90% {row['p05']:.4g} to {row['p95']:.4g})")
    if result.scores is not None:
        s = result.scores
        print(f"held out: {s['share_inside_50']:.0%} inside 50% bands, {s['share_inside_90']:.0%} inside 90% bands")
    print(
        f"wrote {out} ({m['simulations']:,} simulations, {m['wall_seconds']:.1f} s this call, "
        f"{m['simulations_per_second'] or 'unknown'} simulations a second)"
    )


def main() -> None:
    """Entry point of ``python -m sim.calibrate``; Ctrl-C ends it with status 130, finished waves kept."""
    try:
        run_app(_hydra_main)
    except KeyboardInterrupt:
        exit_now(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
