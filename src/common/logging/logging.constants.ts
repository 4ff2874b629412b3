/** DI token for the shared pino logger. */
export const LOGGER = Symbol('LOGGER');
