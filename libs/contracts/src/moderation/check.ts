export interface ModerationCheckRequest {
  roomId: string;
  senderId: string;
  body: string;
}
export type ModerationVerdict = { verdict: 'allow'; body: string } | { verdict: 'reject'; reason: string; rule: string };
