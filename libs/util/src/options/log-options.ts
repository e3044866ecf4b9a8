// The logging options every command takes, declared once.
import { choiceOption } from './declare-option';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];
const LOGGING = 'Logging:';

export const LOG_OPTIONS = {
  logLevel: choiceOption(LOG_LEVELS, { help: 'the least severe events logged', default: 'info', group: LOGGING }),
  logFormat: choiceOption(LOG_FORMATS, { help: 'json (one object per line), pretty (for people), auto: pretty on a terminal, json otherwise', default: 'auto', group: LOGGING }),
};

