import { Args, Query, Resolver } from '@nestjs/graphql';
import { ActorsService } from 'src/actors/actors.service';
import { BrowserSessionsService } from 'src/browser-sessions/browser-sessions.service';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import { ConsoleActivityService } from 'src/console/console-activity.service';
import { TokenStatsArgs } from 'src/console/dto/token-stats.args';
import { Overview, TokenOutcomeEnum, TokenStats } from 'src/console/models/activity.model';

/** The console overview's numbers (ADMIN only). */
@Resolver()
@RequireRoles(ADMIN_ROLE)
export class ActivityResolver {
  constructor(
    private readonly activity: ConsoleActivityService,
    private readonly actors: ActorsService,
    private readonly browserSessions: BrowserSessionsService,
  ) {}

  @Query(() => TokenStats, {
    description:
      'Token validations and refusals per minute, trusted issuer and reason, cluster-wide (other nodes’ last ~10 s may be missing) (ADMIN)',
  })
  async tokenStats(@Args() { lastMinutes }: TokenStatsArgs): Promise<TokenStats> {
    const rows = await this.activity.tokenActivity(lastMinutes);
    return {
      buckets: rows.map((r) => ({ ...r, outcome: r.outcome as TokenOutcomeEnum })),
    };
  }

  @Query(() => Overview, { description: 'Counts for the console overview (ADMIN)' })
  async overview(): Promise<Overview> {
    const midnight = new Date();
    midnight.setUTCHours(0, 0, 0, 0);
    const [actorsCreatedToday, failedLoginsLastHour, activeBrowserSessions] = await Promise.all([
      this.actors.countCreatedSince(midnight),
      this.activity.failedLogins(60),
      this.browserSessions.countLive(),
    ]);
    return { actorsCreatedToday, failedLoginsLastHour, activeBrowserSessions };
  }
}
