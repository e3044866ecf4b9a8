// The FederatedClient's bookkeeping for one secure-aggregation round attempt: the participant, and the meeting
// of its two independent halves. The key rounds (advertise → keys → shares → delivery) run over the network
// while local training runs in the worker thread; the masked input (round 2 of Bonawitz et al., CCS 2017, §5)
// can only be made once both the training result and the ShareDelivery are there, in whichever order they come.
import { PERMISSIVE_POLICY, planSession, type PrivacyPolicy } from '@fedtl/privacy';
import { roundStateDigest, SecAggParticipant, toUint8Array, type MaskedInput, type RoundPlan, type UnmaskLedger } from '@fedtl/protocol';
import { FedtlError } from '@fedtl/util';
import type { LocalUpdate } from '../learner';

export class SecAggAttempt {
  readonly participant: SecAggParticipant;
  readonly round: number;
  /** DP-FedAvg (the plan sets an update clip norm): every client's weight is 1. */
  private readonly equalWeights: boolean;
  private trained?: LocalUpdate;
  private delivered = false;
  private maskedInputMade = false;

  /**
   * `planPayload`: the RoundPlan's bytes exactly as received (their SHA-256 is the attempt's session, binding
   * every key to the weights and config this client was sent). Throws the participant's refusals of the
   * plan's terms (FEDTL_ERR_SECAGG_VIOLATION, FEDTL_ERR_POLICY_REFUSED), FEDTL_ERR_INTERNAL without SecAggParams.
   * `unmaskLedger`: the client's record across attempts, so a round's model is unmasked for one survivor set only.
   */
  constructor(clientId: string, plan: RoundPlan, planPayload: unknown, policy: PrivacyPolicy = PERMISSIVE_POLICY, unmaskLedger?: UnmaskLedger) {
    if (!plan.secureAggregation) throw new FedtlError('FEDTL_ERR_INTERNAL', `secure aggregation: round ${plan.round}'s plan carries no SecAggParams`);
    this.round = plan.round;
    this.equalWeights = (plan.config.updateClipNorm ?? 0) > 0;
    this.participant = new SecAggParticipant({
      clientId,
      runId: plan.runId,
      round: plan.round,
      params: plan.secureAggregation,
      session: planSession(toUint8Array(planPayload, 'RoundPlan')),
      policy,
      modelState: roundStateDigest(plan),
      unmaskLedger,
    });
  }

  /** Records local training's result; the masked input when the ShareDelivery came first, else undefined. */
  onTrained(update: LocalUpdate): MaskedInput | undefined {
    this.trained = update;
    return this.maskedInputIfReady();
  }

  /** Marks the ShareDelivery taken; the masked input when training finished first, else undefined. */
  onDelivered(): MaskedInput | undefined {
    this.delivered = true;
    return this.maskedInputIfReady();
  }

  /**
   * y_u once both halves are in, exactly once; the delta (float32 tensors in plan order) is packed as is. Under
   * DP-FedAvg (a delta clipped to the plan's update clip norm) every client weighs the same: it masks with a weight
   * of 1, not its example count (PROTOCOL.md §7.1), so the sum's sensitivity to one client is the clip norm.
   */
  private maskedInputIfReady(): MaskedInput | undefined {
    if (!this.trained || !this.delivered || this.maskedInputMade) return undefined;
    this.maskedInputMade = true;
    const { delta, numExamples, metrics } = this.trained;
    this.trained = undefined;
    const deltas = delta.map((t) => (t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)));
    const masked = this.participant.maskedInput({ deltas, numExamples: this.equalWeights ? 1 : numExamples, metrics });
    for (const d of deltas) d.fill(0);
    return masked;
  }
}
