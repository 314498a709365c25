/** Coded conditions of the state store, as they appear in log lines (`code`). */
export const StateErrors = Object.freeze({
  UNAVAILABLE: { code: 'ZTG_STATE_UNAVAILABLE', message: 'the state store does not answer' },
  WRONG_VERSION: { code: 'ZTG_STATE_WRONG_VERSION', message: 'the state store needs Redis 7 or Valkey 7 or later' },
  BAD_REPLY: { code: 'ZTG_STATE_BAD_REPLY', message: 'the state store answered something that is not a quota decision' },
});
