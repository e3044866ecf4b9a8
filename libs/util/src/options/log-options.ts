// The logging options every command takes, declared once.
import { LOG_FORMATS, LOG_LEVELS } from '../logger';
import { choiceOption } from './declare-option';

const LOGGING = 'Logging:';

export const LOG_OPTIONS = {
  logLevel: choiceOption(LOG_LEVELS, { help: 'the least severe events logged', default: 'info', group: LOGGING }),
  logFormat: choiceOption(LOG_FORMATS, { help: 'json (one object per line), pretty (for people), auto: pretty on a terminal, json otherwise', default: 'auto', group: LOGGING }),
};

