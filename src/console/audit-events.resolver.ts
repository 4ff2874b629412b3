import { Args, Query, Resolver } from '@nestjs/graphql';
import { AuditService } from 'src/audit/audit.service';
import { type AuthenticatedCaller, CurrentCaller } from 'src/common/auth/caller';
import { AppError } from 'src/common/errors/app-error';
import { AuditEventsArgs } from 'src/console/dto/audit-events.args';
import {
  AuditEvent,
  AuditEventConnection,
  toAuditEventModel,
} from 'src/console/models/audit-event.model';
import { ProjectAccess } from 'src/projects/project-access';

/**
 * The audit log (issue 13 §4): a server ADMIN sees every event, a project admin only its projects'
 * events (those recorded with the project), anyone else is refused.
 */
@Resolver(() => AuditEvent)
export class AuditEventsResolver {
  constructor(
    private readonly audit: AuditService,
    private readonly access: ProjectAccess,
  ) {}

  @Query(() => AuditEventConnection, {
    description:
      'Audit events, oldest first, as a cursor connection (server ADMIN: all; project admins: their projects)',
    complexity: (o) => 2 + Number(o.args.first ?? 20) * Math.max(1, o.childComplexity),
  })
  async auditEvents(
    @Args() args: AuditEventsArgs,
    @CurrentCaller() caller: AuthenticatedCaller,
  ): Promise<AuditEventConnection> {
    const projectIds = await this.access.manageableProjectIds(caller);
    if (projectIds?.length === 0) {
      throw new AppError(
        'FORBIDDEN',
        'FORBIDDEN',
        'The audit log is for server admins and project admins',
      );
    }
    const page = await this.audit.list({
      first: args.first,
      after: args.after,
      actorId: args.filter?.actorId,
      action: args.filter?.action,
      targetId: args.filter?.targetId,
      from: args.filter?.from,
      to: args.filter?.to,
      projectIds,
    });
    return {
      edges: page.items.map((i) => ({ cursor: i.cursor, node: toAuditEventModel(i.event) })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.items.at(-1)?.cursor ?? null },
    };
  }
}
