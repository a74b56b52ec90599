/**
 * Engine training results → the Training view's wire types. The assignments are checked by the
 * compiler, so a change of the engine's types that breaks the protocol fails the build here.
 */
import type { EpochReport, TrainingPlan, TrainingResult } from '../engine/training/types';
import type { WireEpochReport, WireTrainingOutcome, WireTrainingPlan } from '../protocol';

export function toWirePlan(plan: TrainingPlan): WireTrainingPlan {
  return {
    mode: plan.mode,
    classNames: plan.classNames,
    trainImages: plan.trainImages,
    validationImages: plan.validationImages,
    trainableParams: plan.trainableParams,
    frozenParams: plan.frozenParams,
    layers: plan.layers.map((l) => ({ name: l.name, className: l.className, trainable: l.trainable, params: l.params })),
    cutAt: plan.cutAt,
  };
}

export function toWireEpoch(report: EpochReport): WireEpochReport {
  const wire: WireEpochReport = {
    epoch: report.epoch,
    loss: report.loss,
    acc: report.acc,
    valLoss: report.valLoss,
    valAcc: report.valAcc,
    seconds: report.seconds,
    dead: { ...report.dead },
  };
  return wire;
}

/** `outLabel`: display name of the saved folder (null: nothing saved); `canCompare` is filled in by the panel. */
export function toWireOutcome(result: TrainingResult, outLabel: string | null): WireTrainingOutcome {
  return {
    best: { ...result.best },
    before: result.before ? { valAcc: result.before.valAcc } : undefined,
    stoppedEarly: result.stoppedEarly,
    cancelled: result.cancelled,
    outLabel,
    seconds: result.seconds,
    canCompare: false,
  };
}
